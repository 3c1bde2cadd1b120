package catalog_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/catalog"
)

// personName is the message that carries identity; reaching it from a response means the
// response can carry decrypted identity.
const personName = protoreflect.FullName("passage.common.v1.Person")

// reaches reports whether message m, or any message nested in its fields, is target.
func reaches(m protoreflect.MessageDescriptor, target protoreflect.FullName, seen map[protoreflect.FullName]bool) bool {
	if m.FullName() == target {
		return true
	}
	if seen[m.FullName()] {
		return false
	}
	seen[m.FullName()] = true
	fields := m.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.MapValue() != nil {
			f = f.MapValue()
		}
		if f.Message() != nil && reaches(f.Message(), target, seen) {
			return true
		}
	}
	return false
}

// isList reports whether an RPC lists or searches: those never carry identity.
func isList(r rpc) bool {
	n := string(r.desc.Name())
	return strings.HasPrefix(n, "List") || strings.HasPrefix(n, "Search")
}

// TestOnlyAPurposefulReadReturnsIdentity checks the contracts: no list or search response
// can hold a Person, and every response that can has a coded purpose in its request.
func TestOnlyAPurposefulReadReturnsIdentity(t *testing.T) {
	t.Parallel()
	var identityRPCs []string
	lists := 0
	for _, r := range passageRPCs() {
		if isList(r) {
			lists++
		}
		if !reaches(r.desc.Output(), personName, map[protoreflect.FullName]bool{}) {
			continue
		}
		identityRPCs = append(identityRPCs, r.name)
		if isList(r) {
			t.Errorf("%s lists, and its response can carry identity", r.name)
		}
		p := r.desc.Input().Fields().ByName("purpose")
		if p == nil || p.Enum() == nil || p.Enum().FullName() != "passage.common.v1.AccessPurpose" {
			t.Errorf("%s can return identity but its request has no AccessPurpose purpose", r.name)
		}
	}
	if lists < 5 {
		t.Errorf("found %d list RPCs; the contracts are not all linked", lists)
	}
	// Today one RPC returns identity; a second is a decision to make here, on purpose.
	if want := []string{"/passage.intake.v1.IntakeService/GetCase"}; !slices.Equal(identityRPCs, want) {
		t.Errorf("RPCs that can return identity: %v, want %v", identityRPCs, want)
	}
}

// identityWords are pieces of the identity registered below, none of which may appear in a
// list response.
var identityWords = []string{"Amina", "Zawadi", "A09876543", "90 12 34 56", "Plateau", "1992"}

func amina() *commonv1.Person {
	return &commonv1.Person{
		GivenName: "Amina", FamilyName: "Zawadi-Okonkwo", DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17},
		Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "A09876543", IssuingCountry: "NGA"}},
		Phone:     "+227 90 12 34 56", Address: "Quartier Plateau, rue 12, Niamey",
	}
}

// TestListResponsesCarryNoIdentity fills every service with a case of the same person, then
// calls every list RPC as every role allowed to, until each list returns rows, and checks
// that no piece of the identity is in any response.
func TestListResponsesCarryNoIdentity(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: catalog.Services()})
	worker := env.As(t, auth.RoleCaseworker, "NER")
	supervisor := env.As(t, auth.RoleSupervisor, "NER")
	in := intakev1.NewIntakeServiceClient(env.Conn)
	ids := map[commonv1.Programme]string{}
	for _, p := range []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM} {
		resp, err := in.RegisterCase(worker, &intakev1.RegisterCaseRequest{
			RequestId: uuid.NewString(), Mission: "NER", Programme: p, Principal: amina(), HostCountry: "NER",
			Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
				Date: &date.Date{Year: 2026, Month: 3, Day: 1}}},
			RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 1},
		})
		if err != nil {
			t.Fatalf("RegisterCase %s: %v", p, err)
		}
		ids[p] = resp.GetCase().GetCaseId()
	}
	// A break-glass grant whose reason names the person, and a HASM request.
	if _, err := in.BreakGlass(supervisor, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(),
		CaseId: ids[commonv1.Programme_PROGRAMME_AVRR], Reason: "Amina Zawadi-Okonkwo (A09876543) is at the hospital"}); err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	hq := hasmv1.NewStrandedMigrantServiceClient(env.Conn)
	if _, err := hq.CreateFund(env.As(t, auth.RoleProgrammeManager, auth.MissionHQ), &hasmv1.CreateFundRequest{
		RequestId: uuid.NewString(), Code: "HASM-TEST", Year: 2026, Currency: "USD", Budget: 1_000_000}); err != nil {
		t.Fatalf("CreateFund: %v", err)
	}
	eventually(t, func() error {
		_, err := hq.RequestAssistance(worker, &hasmv1.RequestAssistanceRequest{
			RequestId: uuid.NewString(), CaseId: ids[commonv1.Programme_PROGRAMME_HASM],
			StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           50_000, Currency: "USD", FundCode: "HASM-TEST", FundYear: 2026,
		})
		return err
	})

	lists := 0
	for _, r := range passageRPCs() {
		if !isList(r) {
			continue
		}
		lists++
		for _, role := range want[r.name] {
			mission := missionOf(role)
			if role == auth.RoleAdmin {
				mission = "NER" // the mission's administrator, who reviews its break-glass grants
			}
			caller := env.As(t, role, mission)
			var text string
			eventually(t, func() error {
				out := dynamicpb.NewMessage(r.desc.Output())
				if err := env.Conn.Invoke(caller, r.name, dynamicpb.NewMessage(r.desc.Input()), out); err != nil {
					return err
				}
				if rows(out) == 0 {
					return status.Errorf(codes.NotFound, "%s as %s: no rows yet", r.name, role)
				}
				text = prototext.Format(out)
				return nil
			})
			for _, w := range identityWords {
				if strings.Contains(text, w) {
					t.Errorf("%s as %s returned %q of the person's identity", r.name, role, w)
				}
			}
		}
	}
	if lists < 5 {
		t.Errorf("called %d list RPCs, want every one", lists)
	}
}

// rows counts the entries of a list response's repeated message fields.
func rows(m protoreflect.Message) int {
	n := 0
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if f.IsList() && f.Message() != nil {
			n += v.List().Len()
		}
		return true
	})
	return n
}

// eventually retries fn for a few seconds: services learn of intake's cases through the
// outbox, a moment after registration.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if c := status.Code(err); c != codes.NotFound && c != codes.Unknown && c != codes.OK || time.Now().After(deadline) {
			t.Fatalf("%v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
