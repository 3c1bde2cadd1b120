package intake_test

import (
	cmpp "cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// victimPassport is the passport of the victim of trafficking whose case Amadou works on.
const victimPassport = "MA7712034"

// victimCase registers, as Amadou, a victim of trafficking's case and, from it, the AVRR case
// she returns through (OpenCase: the same subject id in two cases). It returns both.
func (b *accessBundle) victimCase(t *testing.T) (vot, avrr *intakev1.Case) {
	t.Helper()
	req := registration(&commonv1.Person{GivenName: "Mariam", FamilyName: "Traore", Sex: commonv1.Sex_SEX_FEMALE,
		DateOfBirth: &date.Date{Year: 2001, Month: 6, Day: 5}, Nationality: "MLI",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: victimPassport, IssuingCountry: "MLI"}}})
	req.Programme = commonv1.Programme_PROGRAMME_VOT
	req.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
	vot = b.registerAs(t, b.amadou, req)
	opened, err := b.client.OpenCase(b.amadou, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: vot.GetCaseId(),
		Programme: commonv1.Programme_PROGRAMME_AVRR, Consents: assistanceConsent()})
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	return vot, opened.GetCase()
}

// probe is the attack of issue 15: a registration holding nothing but a passport number (and
// the names the schema requires, made up).
func probe() *intakev1.RegisterCaseRequest {
	return registration(&commonv1.Person{GivenName: "X", FamilyName: "X",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: victimPassport, IssuingCountry: "MLI"}},
	})
}

// registrationAudit returns the audit record of the registration of caseID.
func registrationAudit(t *testing.T, env *testserver.Env, caseID string) testserver.AuditRecord {
	t.Helper()
	for _, r := range env.AuditRecords(t, intakev1.IntakeService_RegisterCase_FullMethodName) {
		if r.AggregateID == caseID {
			return r
		}
	}
	t.Fatalf("no audit record of the registration of %s", caseID)
	return testserver.AuditRecord{}
}

// sorted returns ds full entries first, by case, then redacted ones, for comparing: the
// service answers in the order it found the matches.
func sorted(ds ...*intakev1.SuspectedDuplicate) []*intakev1.SuspectedDuplicate {
	return slices.SortedFunc(slices.Values(ds), func(a, b *intakev1.SuspectedDuplicate) int {
		return cmpp.Or(cmpp.Compare(a.GetDisclosure(), b.GetDisclosure()), strings.Compare(a.GetCaseId(), b.GetCaseId()))
	})
}

// TestProbeRevealsNothingOfAColleaguesCase is issue 15's probe: a caseworker who does not
// work on a victim's cases registers a case holding only the victim's passport number. She
// learns that the mission knows someone with that passport, and whom to ask; not which case,
// not whose, not how many, not the programme. The check is in her registration's audit record
// as counts, and a retry of her request gets the same answer.
func TestProbeRevealsNothingOfAColleaguesCase(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	vot, avrr := b.victimCase(t)

	req := probe()
	resp, err := b.client.RegisterCase(b.binta, req)
	if err != nil {
		t.Fatalf("the probe: %v", err)
	}
	want := []*intakev1.SuspectedDuplicate{{
		MatchedSubjectId: resp.GetCase().GetSubjectId(),
		MatchedOn:        []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT},
		Disclosure:       intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_REDACTED,
		AskRole:          "supervisor",
	}}
	if diff := cmp.Diff(want, resp.GetSuspectedDuplicates(), protocmp.Transform()); diff != "" {
		t.Errorf("the probe's duplicates (-want +got):\n%s", diff)
	}
	// Nowhere in the answer: the victim's cases, her subject id, her programme.
	text := protojson.Format(resp)
	for what, s := range map[string]string{"VoT case id": vot.GetCaseId(), "AVRR case id": avrr.GetCaseId(),
		"subject id": vot.GetSubjectId(), "programme": "PROGRAMME_VOT", "vulnerability": "TRAFFICKING"} {
		if strings.Contains(text, s) {
			t.Errorf("the probe's answer holds the victim's %s:\n%s", what, text)
		}
	}

	// The probe is audited: who, which case was registered, and what the check found, as counts.
	rec := registrationAudit(t, b.env, resp.GetCase().GetCaseId())
	if rec.Actor != bintaID || rec.Reason != "DUPLICATE_CHECK matched=2 withheld=2" {
		t.Errorf("the probe's audit record = %+v, want Binta's with DUPLICATE_CHECK matched=2 withheld=2", rec)
	}
	if got := registrationAudit(t, b.env, vot.GetCaseId()).Reason; got != "DUPLICATE_CHECK matched=0 withheld=0" {
		t.Errorf("the victim's registration's audit reason = %q, want a check that matched nothing", got)
	}

	// A retry of the probe gets the same redacted answer and writes nothing; nobody else gets
	// Binta's first result with her request id.
	tables := []string{`intake."case"`, "audit.record", "intake.idempotency", "vault.identity"}
	before := b.env.RowCounts(t, tables...)
	again, err := b.client.RegisterCase(b.binta, proto.CloneOf(req))
	if err != nil {
		t.Fatalf("the probe retried: %v", err)
	}
	if diff := cmp.Diff(resp, again, protocmp.Transform()); diff != "" {
		t.Errorf("the retry's answer (-first +retry):\n%s", diff)
	}
	_, err = b.client.RegisterCase(b.amadou, proto.CloneOf(req))
	testserver.WantCode(t, err, codes.InvalidArgument)
	if diff := cmp.Diff(before, b.env.RowCounts(t, tables...)); diff != "" {
		t.Errorf("the retry and the reused request id wrote rows (-before +after):\n%s", diff)
	}

	// Nor does Binta get a supervisor's first result, which names the victim's cases, by
	// sending the supervisor's request again.
	chiefs := probe()
	if _, err := b.client.RegisterCase(b.chief, chiefs); err != nil {
		t.Fatalf("the supervisor's registration: %v", err)
	}
	before = b.env.RowCounts(t, tables...)
	stolen, err := b.client.RegisterCase(b.binta, proto.CloneOf(chiefs))
	testserver.WantCode(t, err, codes.InvalidArgument)
	if len(stolen.GetSuspectedDuplicates()) != 0 {
		t.Errorf("Binta got the supervisor's duplicates: %v", stolen.GetSuspectedDuplicates())
	}
	if diff := cmp.Diff(before, b.env.RowCounts(t, tables...)); diff != "" {
		t.Errorf("the reused request id wrote rows (-before +after):\n%s", diff)
	}
}

// TestSupervisorAndAssignedStaffSeeTheMatch: the mission's supervisor, who merges and links
// duplicates, sees every matching case and person; a caseworker assigned to one of the cases
// sees that one and, for the one she does not work on, a redacted entry.
func TestSupervisorAndAssignedStaffSeeTheMatch(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	vot, avrr := b.victimCase(t)

	resp, err := b.client.RegisterCase(b.chief, probe())
	if err != nil {
		t.Fatalf("the supervisor's registration: %v", err)
	}
	mine := resp.GetCase().GetSubjectId()
	full := func(c *intakev1.Case) *intakev1.SuspectedDuplicate {
		return &intakev1.SuspectedDuplicate{CaseId: c.GetCaseId(), SubjectId: c.GetSubjectId(), MatchedSubjectId: mine,
			MatchedOn:  []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT},
			Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_FULL}
	}
	if diff := cmp.Diff(sorted(full(vot), full(avrr)), sorted(resp.GetSuspectedDuplicates()...), protocmp.Transform()); diff != "" {
		t.Errorf("the supervisor's duplicates (-want +got):\n%s", diff)
	}
	if got := registrationAudit(t, b.env, resp.GetCase().GetCaseId()).Reason; got != "DUPLICATE_CHECK matched=2 withheld=0" {
		t.Errorf("the supervisor's audit reason = %q", got)
	}

	// Binta is assigned the AVRR case only.
	if _, err := b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: avrr.GetCaseId(), StaffId: bintaID}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	resp, err = b.client.RegisterCase(b.binta, probe())
	if err != nil {
		t.Fatalf("the assigned caseworker's registration: %v", err)
	}
	mine = resp.GetCase().GetSubjectId()
	want := sorted(full(avrr), &intakev1.SuspectedDuplicate{MatchedSubjectId: mine,
		MatchedOn:  []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT},
		Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_REDACTED, AskRole: "supervisor"})
	if diff := cmp.Diff(want, sorted(resp.GetSuspectedDuplicates()...), protocmp.Transform()); diff != "" {
		t.Errorf("the assigned caseworker's duplicates (-want +got):\n%s", diff)
	}
	// The victim's two cases and the supervisor's registration of the same passport; Binta
	// works on the AVRR case alone.
	if got := registrationAudit(t, b.env, resp.GetCase().GetCaseId()).Reason; got != "DUPLICATE_CHECK matched=3 withheld=2" {
		t.Errorf("the assigned caseworker's audit reason = %q", got)
	}
}

// TestProbeWithdrawn: the registrant withdraws her probe by closing it as a duplicate. Its
// person's identity is then scheduled for erasure by the retention rules (erased by the job
// once the programme's period has run from the closure, not before), or erased at once by a
// supervisor (ErasePerson, UNLAWFUL_PROCESSING). Either way the probe's blind index goes with
// it, and the victim's cases, still open, keep theirs.
func TestProbeWithdrawn(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	vot, _ := b.victimCase(t)
	closeProbe := func(c *intakev1.Case) {
		t.Helper()
		resp, err := b.client.CloseCase(b.binta, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_DUPLICATE})
		if err != nil {
			t.Fatalf("the registrant closes her probe: %v", err)
		}
		if got := resp.GetCase(); got.GetStatus() != intakev1.CaseStatus_CASE_STATUS_CLOSED || got.GetClosureReason() != intakev1.ClosureReason_CLOSURE_REASON_DUPLICATE {
			t.Fatalf("the closed probe: %v, %v", got.GetStatus(), got.GetClosureReason())
		}
	}
	indexes := func(subject string) int {
		return b.env.QueryInt(t, `SELECT count(*) FROM vault.blind_index WHERE subject_id = $1`, subject)
	}

	// Withdrawn, then erased by the retention job.
	first := b.registerAs(t, b.binta, probe())
	closeProbe(first)
	svc := intake.New(b.env.Pool(t, intake.Role), b.env.Keys)
	ctx := context.Background()
	period := time.Duration(retention.DefaultPolicy["AVRR"]) * 365 * 24 * time.Hour
	if n, err := svc.EraseDue(ctx, retention.DefaultPolicy, today.Add(period-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("EraseDue before the period ran = %d, %v; want 0", n, err)
	}
	if n, err := svc.EraseDue(ctx, retention.DefaultPolicy, today.Add(period+10*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("EraseDue after the period = %d, %v; want the probe's person alone", n, err)
	}
	if n := indexes(first.GetSubjectId()); n != 0 {
		t.Errorf("the erased probe keeps %d blind indexes", n)
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM vault.erasure WHERE subject_id = $1 AND reason = 'RETENTION_EXPIRED'`, first.GetSubjectId()); n != 1 {
		t.Errorf("%d retention erasures of the probe's person, want 1", n)
	}

	// Withdrawn, then erased at once by a supervisor.
	second := b.registerAs(t, b.binta, probe())
	closeProbe(second)
	erased, err := b.client.ErasePerson(b.chief, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: second.GetCaseId(),
		Reason: intakev1.ErasureReason_ERASURE_REASON_UNLAWFUL_PROCESSING})
	if err != nil || erased.GetErasure().GetSubjectId() != second.GetSubjectId() {
		t.Fatalf("ErasePerson of the probe: %v, %v", erased, err)
	}
	if n := indexes(second.GetSubjectId()); n != 0 {
		t.Errorf("the erased probe keeps %d blind indexes", n)
	}
	if n := indexes(vot.GetSubjectId()); n == 0 {
		t.Error("the victim lost her blind indexes")
	}
	full, err := b.client.GetCase(b.amadou, fullRead(vot.GetCaseId(), caseManagement))
	if err != nil || full.GetIdentity().GetPrincipal().GetPerson().GetFamilyName() != "Traore" {
		t.Errorf("the victim's identity after the probes were erased: %v, %v", full.GetIdentity(), err)
	}
}
