package quota

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Class is a kind of call, each with its own limit; see the package documentation.
type Class string

// The classes, in the order [Classes] lists them.
const (
	Read            Class = "read"
	Write           Class = "write"
	Search          Class = "search"
	Analytics       Class = "analytics"
	Partner         Class = "partner"
	Unauthenticated Class = "unauthenticated"
	// PartnerAddress is no method's class: every partner call takes from its source address's
	// bucket of this class as well as from its partner's [Partner] bucket.
	PartnerAddress Class = "partner_address"
)

// Classes lists every class, in a stable order.
func Classes() []Class {
	return []Class{Read, Write, Search, Analytics, Partner, Unauthenticated, PartnerAddress}
}

// analyticsService is the package prefix of the HQ analytics service's methods.
const analyticsService = "/passage.analytics."

// writeVerbs are the leading words of the methods that record, change or send something.
// A method name starting with none of them, nor with a read or search verb, has no class:
// the test over every service's methods fails until it is given one here.
var writeVerbs = []string{
	"Register", "Update", "Close", "Open", "Reopen", "Record", "Withdraw", "Erase",
	"Assign", "Unassign", "BreakGlass", "Review", "Create", "Send", "Revoke", "Accept",
	"Decline", "Complete", "Link", "Publish", "Set", "Decide", "Request", "End", "Assess", "Propose",
	"Add", "Edit", "Upload", "Provision", "Deactivate", "Reactivate",
}

// Classify returns the class of a call to method (a full gRPC method name,
// "/passage.intake.v1.IntakeService/ListCases") by a partner agency's token (partner) or by
// staff; false when the method's name fits no class. Every call of a partner is of class
// [Partner]; the methods of the analytics service are [Analytics]; the rest go by the verb
// their name starts with.
func Classify(method string, partner bool) (Class, bool) {
	if partner {
		return Partner, true
	}
	if strings.HasPrefix(method, analyticsService) {
		return Analytics, true
	}
	i := strings.LastIndexByte(method, '/')
	if i < 0 {
		return "", false
	}
	name := method[i+1:]
	switch {
	case startsWithWord(name, "Get"), startsWithWord(name, "List"), startsWithWord(name, "Download"):
		return Read, true
	case startsWithWord(name, "Search"), startsWithWord(name, "Find"):
		return Search, true
	}
	for _, verb := range writeVerbs {
		if startsWithWord(name, verb) {
			return Write, true
		}
	}
	return "", false
}

// startsWithWord reports whether the CamelCase name starts with the word verb: "GetCase"
// and "Get" do, "Getaway" does not.
func startsWithWord(name, verb string) bool {
	rest, ok := strings.CutPrefix(name, verb)
	return ok && (rest == "" || rest[0] >= 'A' && rest[0] <= 'Z')
}

// maxDimensions caps the dimensions [Cost] counts: the analytics service takes at most four,
// and validation refuses more after the call is priced.
const maxDimensions = 4

// wholeTableCost is the price of a release over every quasi-identifier at once
// (ExportVictimRecords): that of the widest aggregate.
const wholeTableCost = 1 + 1<<maxDimensions

// Cost is what a call to method with request req takes from its bucket: 1 for every class
// but [Analytics], where a request with a group_by field over n dimensions costs 1 + 2^n,
// ExportVictimRecords 1 + 2^4, and any other call 1. req may be nil (a stream, priced before
// any message is read).
func Cost(method string, req any) float64 {
	if !strings.HasPrefix(method, analyticsService) {
		return 1
	}
	if strings.HasSuffix(method, "/ExportVictimRecords") {
		return wholeTableCost
	}
	m, ok := req.(proto.Message)
	if !ok || m == nil {
		return 1
	}
	r := m.ProtoReflect()
	f := r.Descriptor().Fields().ByName("group_by")
	if f == nil || f.Cardinality() != protoreflect.Repeated || f.IsMap() {
		return 1
	}
	n := min(r.Get(f).List().Len(), maxDimensions)
	return float64(1 + int(1)<<n)
}
