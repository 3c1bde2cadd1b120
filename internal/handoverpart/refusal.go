package handoverpart

import (
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// Refusal is a step of part Part of a case refused to a mission that does not hold the part:
// Holder does, by an accepted hand-over, or, when no grant gives the part, the case's own
// mission. HandedOver says the refused mission is the case's own, which handed the part over.
type Refusal struct {
	Part       handoverv1.HandoverPart
	Holder     string
	HandedOver bool
}

// Error names the part and its holder's mission, codes only.
func (r *Refusal) Error() string {
	if r.HandedOver {
		return "the case's " + enumcode.Code(r.Part) + " part is handed over to mission " + r.Holder
	}
	return "the case's " + enumcode.Code(r.Part) + " part is held by mission " + r.Holder
}

// reason is the refusal's ErrorInfo reason: PART_HANDED_OVER to the case's own mission,
// PART_NOT_HELD to another.
func (r *Refusal) reason() string {
	if r.HandedOver {
		return "PART_HANDED_OVER"
	}
	return "PART_NOT_HELD"
}

// Status is the refusal as a service of errors domain domain reports it: FAILED_PRECONDITION
// with an ErrorInfo of reason PART_HANDED_OVER (HandedOver) or PART_NOT_HELD and metadata
// {part: the part's code, mission: the holder's} (codes only), and a violation of that reason
// and subject "parts/<part's code>".
func (r *Refusal) Status(domain string) error {
	code := enumcode.Code(r.Part)
	return rpcerr.FailedPrecondition(domain, r.reason(), r.Error(),
		map[string]string{"part": code, "mission": r.Holder},
		rpcerr.Violation(r.reason(), "parts/"+code, r.Error()))
}

// Check decides whether mission acting may take a step of part p of a case whose own mission
// (the one that registered it) is own, and whose part holder names (Holder's answer: "" when
// no grant gives the part). It returns nil when acting may: acting holds the part, or nobody
// does and acting is the case's own mission. Otherwise it returns a *Refusal naming the
// holder (the own mission when nobody holds the part), HandedOver when acting is the own
// mission. A mission that holds no part of the case must not get here: the case is not found
// for it.
func Check(p handoverv1.HandoverPart, own, holder, acting string) error {
	switch {
	case holder == acting, holder == "" && acting == own:
		return nil
	case holder == "":
		holder = own
	}
	return &Refusal{Part: p, Holder: holder, HandedOver: acting == own}
}
