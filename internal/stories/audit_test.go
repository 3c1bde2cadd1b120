package stories_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestAuditRecordsEveryCall walks the seed's stories through every service, with a replayed
// retry, refused calls and identity reads among them, then holds the audit table against the
// calls made: one record per mutation that wrote (none for a replay, none for a refusal), one
// per identity read, none for other reads; records name the caller and never a person; and
// every mission's chain verifies.
func TestAuditRecordsEveryCall(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failedStep)
			if !ok {
				panic(r)
			}
			t.Fatalf("the step at audit_test.go:%d failed: %v", f.line, f.err)
		}
	}()
	c := start(t)
	avrr := germanyToIraq(t, c)
	thailandVictimReturnsHome(t, c)
	yemenStrandedMigrant(t, c)

	ctx := c.env.As(t, auth.RoleCaseworker, "NER")
	reg := &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Zeinabou", FamilyName: "Abdoulkarim", Sex: commonv1.Sex_SEX_FEMALE,
			DateOfBirth: day(1994, 3, 8), Nationality: "MLI",
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "ZK7731942", IssuingCountry: "MLI"}}},
		Consents: consent(day(2026, 1, 10)),
	}
	kase := must(c.intake.RegisterCase(ctx, reg)).GetCase()
	must(c.intake.RegisterCase(ctx, reg)) // a retry: the first result, no second record
	// Refused, nothing written: another mission, a stale version.
	other := proto.CloneOf(reg)
	other.RequestId, other.Mission = uuid.NewString(), "DEU"
	if _, err := c.intake.RegisterCase(ctx, other); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("RegisterCase in another mission: %v", err)
	}
	if _, err := c.intake.UpdateCase(ctx, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: kase.GetCaseId(),
		Version: 7, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("UpdateCase at a stale version: %v", err)
	}
	// Reads: only the one that returns identity is recorded.
	must(c.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: kase.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}))
	must(c.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: kase.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_BASIC}))
	must(c.intake.ListCases(ctx, &intakev1.ListCasesRequest{}))
	// A supervisor reads a case they do not work on under a break-glass grant: the grant and
	// the read are both recorded.
	deu := c.env.As(t, auth.RoleSupervisor, "DEU")
	must(c.intake.BreakGlass(deu, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: avrr,
		Reason: "the caseworker is away and the embassy needs the travel details today"}))
	must(c.intake.GetCase(deu, &intakev1.GetCaseRequest{CaseId: avrr, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS}))
	closeReq := &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: kase.GetCaseId(), Version: kase.GetVersion(),
		Reason: intakev1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}
	must(c.intake.CloseCase(ctx, closeReq))

	// What the calls say must be recorded.
	type key struct{ method, requestID string }
	wantMutations := map[key]bool{}
	refused := map[key]bool{}
	identityReads := 0
	var planted []string
	services := map[string]bool{}
	for _, call := range c.env.Calls.All() {
		if r, ok := call.Request.(*intakev1.RegisterCaseRequest); ok {
			for _, p := range append([]*commonv1.Person{r.GetPrincipal()}, r.GetHouseholdMembers()...) {
				planted = append(planted, p.GetGivenName(), p.GetFamilyName())
				for _, d := range p.GetDocuments() {
					planted = append(planted, d.GetNumber())
				}
			}
		}
		if r, ok := call.Request.(*intakev1.GetCaseRequest); ok && call.Code == codes.OK && r.GetView() == intakev1.CaseView_CASE_VIEW_FULL {
			identityReads++
			continue
		}
		id, mutation := requestID(call.Request)
		if !mutation {
			continue
		}
		k := key{call.Method, id}
		if call.Code == codes.OK {
			wantMutations[k] = true
			services[strings.Split(call.Method, "/")[1]] = true
		} else {
			refused[k] = true
		}
	}
	if len(services) != 4 {
		t.Fatalf("the stories mutated through %v; want all four services", services)
	}

	records := c.env.AuditRecords(t, "")
	got := map[key]int{}
	reads := 0
	for _, r := range records {
		if r.Actor == "" || r.Role == "" || r.CallerMission == "" || r.RequestID == "" || r.AggregateID == "" || r.Mission == "" {
			t.Errorf("record %+v lacks who, what or which", r)
		}
		if r.Method == intakev1.IntakeService_GetCase_FullMethodName {
			reads++
			continue
		}
		got[key{r.Method, r.ClientRequestID}]++
	}
	for k := range wantMutations {
		if got[k] != 1 {
			t.Errorf("%s request %s: %d audit records, want 1", k.method, k.requestID, got[k])
		}
	}
	for k, n := range got {
		if !wantMutations[k] {
			t.Errorf("%s request %s: %d audit records for a call that did not succeed (refused: %v)", k.method, k.requestID, n, refused[k])
		}
	}
	if reads != identityReads || identityReads != 2 {
		t.Errorf("%d identity-read records, want one per full GetCase (%d)", reads, identityReads)
	}
	closed := c.env.AuditRecords(t, intakev1.IntakeService_CloseCase_FullMethodName)
	if len(closed) != 1 || closed[0].Reason != "CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY" || closed[0].Actor != "staff-caseworker" ||
		closed[0].Role != "caseworker" || closed[0].Mission != "NER" || closed[0].AggregateID != kase.GetCaseId() {
		t.Errorf("CloseCase records = %+v, want the caller, the case and the coded reason", closed)
	}

	// No personal data: every record, as a dump would show it, holds none of the identities.
	dump := c.env.QueryText(t, `SELECT coalesce(string_agg(r::text, E'\n'), '') FROM audit.record r`)
	for _, p := range planted {
		if p != "" && strings.Contains(strings.ToLower(dump), strings.ToLower(p)) {
			t.Errorf("the audit table holds %q", p)
		}
	}

	// An identity read that cannot be recorded returns nothing: take intake's right to write
	// records away and the full view fails, while the pseudonymised one still works.
	c.env.ExecAsOwner(t, `REVOKE INSERT ON audit.record FROM passage_intake`)
	if resp, err := c.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: kase.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}); status.Code(err) != codes.Internal || resp.GetIdentity() != nil {
		t.Errorf("full GetCase without an audit record: %v, identity %v; want INTERNAL and nothing", err, resp.GetIdentity() != nil)
	}
	must(c.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: kase.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_BASIC}))
	// A change that cannot be recorded is not made: the record is in the change's transaction.
	// (Intake's events alone are counted: the other services' consumers and jobs keep writing
	// theirs meanwhile.)
	intakeEvents := `outbox.event WHERE producer = 'intake'`
	before := c.env.RowCounts(t, `intake."case"`, "vault.identity", intakeEvents)
	again := proto.CloneOf(reg)
	again.RequestId = uuid.NewString()
	if _, err := c.intake.RegisterCase(ctx, again); status.Code(err) != codes.Internal {
		t.Errorf("RegisterCase without an audit record: %v, want INTERNAL", err)
	}
	if after := c.env.RowCounts(t, `intake."case"`, "vault.identity", intakeEvents); !maps.Equal(before, after) {
		t.Errorf("RegisterCase without an audit record wrote: %v, then %v", before, after)
	}

	chains := c.env.ChainAudit(t)
	var linked int64
	for _, ch := range chains {
		linked += ch.Links
	}
	if linked != int64(len(records)) {
		t.Errorf("%d links for %d records", linked, len(records))
	}
}

// requestID returns the request_id of a mutating request; reads have none.
func requestID(m proto.Message) (string, bool) {
	if m == nil {
		return "", false
	}
	f := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name("request_id"))
	if f == nil {
		return "", false
	}
	return m.ProtoReflect().Get(f).String(), true
}
