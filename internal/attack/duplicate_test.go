package attack_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// victimPassport is the passport of the bench's victim of trafficking (identityBench).
const victimPassport = "MA7712034"

// passportProbe is a registration holding nothing of a person but a passport number, and the
// names the schema requires, made up.
func passportProbe(number string) *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: missionA, Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "X", FamilyName: "X",
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: number, IssuingCountry: "MLI"}}},
		Consents: consents(reg), RegistrationDate: reg,
	}
}

// TestDuplicateProbe is issue 15's membership probe: a caseworker of the victim's mission, who
// does not work on her case, registers a case holding only her passport number, to learn
// whose case it is. The answer says that the mission knows the passport and whom to ask, and
// nothing that tells the victim's case from any other: it is the answer a probe of an
// ordinary AVRR case's passport gets, but for the probe's own ids. The prober then withdraws
// the probe by closing it as a duplicate.
func TestDuplicateProbe(t *testing.T) {
	t.Parallel()
	b := newIdentityBench(t)
	owner := b.env.AsStaff(t, "cw-own", auth.RoleCaseworker, missionA)
	colleague := b.env.AsStaff(t, "cw-colleague", auth.RoleCaseworker, missionA)
	victim, err := b.client.GetCase(owner, &intakev1.GetCaseRequest{CaseId: b.caseID})
	if err != nil {
		t.Fatal(err)
	}
	// An ordinary case of another caseworker, to hold the answers against.
	ordinary := passportProbe("OR5500121")
	ordinary.Principal.GivenName, ordinary.Principal.FamilyName = "Issa", "Maiga"
	if _, err := b.client.RegisterCase(b.env.AsStaff(t, "cw-third", auth.RoleCaseworker, missionA), ordinary); err != nil {
		t.Fatal(err)
	}

	probe, err := b.client.RegisterCase(colleague, passportProbe(victimPassport))
	if err != nil {
		t.Fatalf("the probe: %v", err)
	}
	text := protojson.Format(probe)
	for what, s := range map[string]string{"case id": b.caseID, "subject id": victim.GetCase().GetSubjectId(),
		"programme": "PROGRAMME_VOT", "vulnerability": "VICTIM_OF_TRAFFICKING"} {
		if strings.Contains(text, s) {
			t.Errorf("the probe's answer holds the victim's %s:\n%s", what, text)
		}
	}
	control, err := b.client.RegisterCase(colleague, passportProbe("OR5500121"))
	if err != nil {
		t.Fatalf("the control probe: %v", err)
	}
	// Held against each other, the two answers differ only by the probes' own ids.
	own := func(r *intakev1.RegisterCaseResponse) *intakev1.RegisterCaseResponse {
		r = proto.CloneOf(r)
		for _, d := range r.GetSuspectedDuplicates() {
			if d.GetMatchedSubjectId() != r.GetCase().GetSubjectId() {
				t.Errorf("a duplicate names a person of another case as the probe's: %v", d)
			}
			d.MatchedSubjectId = ""
		}
		r.Case = nil
		return r
	}
	if diff := cmp.Diff(own(control), own(probe), protocmp.Transform()); diff != "" {
		t.Errorf("the victim's case answers a probe otherwise than an ordinary case (-ordinary +victim):\n%s", diff)
	}
	if len(probe.GetSuspectedDuplicates()) != 1 || probe.GetSuspectedDuplicates()[0].GetAskRole() != string(auth.RoleSupervisor) {
		t.Errorf("the probe's duplicates = %v, want one saying to ask the supervisor", probe.GetSuspectedDuplicates())
	}

	// The probe is in the audit, as a registration whose check matched a case withheld.
	var audited bool
	for _, r := range b.env.AuditRecords(t, intakev1.IntakeService_RegisterCase_FullMethodName) {
		if r.AggregateID == probe.GetCase().GetCaseId() {
			audited = r.Actor == "cw-colleague" && r.Reason == "DUPLICATE_CHECK matched=1 withheld=1"
		}
		if strings.Contains(r.Reason, b.caseID) {
			t.Errorf("an audit reason names the victim's case: %+v", r)
		}
	}
	if !audited {
		t.Error("the probe's registration is not audited with its duplicate check")
	}

	// The prober withdraws the probe.
	closed, err := b.client.CloseCase(colleague, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: probe.GetCase().GetCaseId(),
		Version: probe.GetCase().GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_DUPLICATE})
	if err != nil || closed.GetCase().GetStatus() != intakev1.CaseStatus_CASE_STATUS_CLOSED {
		t.Errorf("closing the probe as a duplicate: %v, %v", closed.GetCase().GetStatus(), err)
	}
}
