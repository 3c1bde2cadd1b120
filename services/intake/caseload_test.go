package intake_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// caseload is a mission NER where Amadou registered a0, a1 and a2 and Binta b0 and b1, in
// that order; the chief assigned a0 to Binta; a1 was then made active (its last activity);
// a2 has no vulnerability, the others medical needs; a1 is VOT, the others AVRR. DEU has a
// case of its own.
type caseload struct {
	*accessBundle
	a0, a1, a2, b0, b1 *intakev1.Case
	deu                *intakev1.Case
}

func setupCaseload(t *testing.T) *caseload {
	t.Helper()
	b := &caseload{accessBundle: setupAccess(t)}
	named := func(given string) *intakev1.RegisterCaseRequest { return registration(child(given, 1990)) }
	b.a0 = b.registerAs(t, b.amadou, named("Adama"))
	vot := named("Aissa")
	vot.Programme = commonv1.Programme_PROGRAMME_VOT
	b.a1 = b.registerAs(t, b.amadou, vot)
	plain := named("Ali")
	plain.Vulnerabilities = nil
	b.a2 = b.registerAs(t, b.amadou, plain)
	b.b0 = b.registerAs(t, b.binta, named("Bako"))
	b.b1 = b.registerAs(t, b.binta, named("Bintou"))
	if _, err := b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: b.a0.GetCaseId(), StaffId: bintaID}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	upd, err := b.client.UpdateCase(b.amadou, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: b.a1.GetCaseId(),
		Version: b.a1.GetVersion(), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE})
	if err != nil {
		t.Fatalf("UpdateCase: %v", err)
	}
	b.a1 = upd.GetCase()
	deu := registration(child("Dieter", 1990))
	deu.Mission, deu.HostCountry = "DEU", "DEU"
	b.deu = b.registerAs(t, b.otherCaseworker, deu)
	return b
}

func ids(cs ...*intakev1.Case) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.GetCaseId())
	}
	return out
}

// listAll lists every page of req as ctx, two cases a page, and returns the case ids and the
// first page's counts.
func (b *caseload) listAll(t *testing.T, ctx context.Context, req *intakev1.ListCasesRequest) ([]string, *intakev1.CaseCounts) {
	t.Helper()
	req.PageSize, req.WithCounts = 2, true
	got := []string{}
	var counts *intakev1.CaseCounts
	for page := 0; ; page++ {
		resp, err := b.client.ListCases(ctx, req)
		if err != nil {
			t.Fatalf("ListCases: %v", err)
		}
		if page == 0 {
			counts = resp.GetCounts()
		} else if resp.GetCounts() != nil {
			t.Errorf("page %d carries counts", page)
		}
		got = append(got, ids(resp.GetCases()...)...)
		if resp.GetNextPageToken() == "" || page > 5 {
			return got, counts
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

func TestCaseloadFilters(t *testing.T) {
	t.Parallel()
	b := setupCaseload(t)
	staff := intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF
	for _, tt := range []struct {
		name string
		ctx  context.Context
		req  *intakev1.ListCasesRequest
		want []string
	}{
		{"every case", b.amadou, &intakev1.ListCasesRequest{}, ids(b.b1, b.b0, b.a2, b.a1, b.a0)},
		{"my cases", b.amadou, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME}, ids(b.a2, b.a1, b.a0)},
		{"my cases, registered and assigned", b.binta, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME}, ids(b.b1, b.b0, b.a0)},
		{"a colleague's, for a supervisor", b.chief, &intakev1.ListCasesRequest{Assignee: staff, AssigneeStaffId: bintaID}, ids(b.b1, b.b0, b.a0)},
		{"one's own by name", b.amadou, &intakev1.ListCasesRequest{Assignee: staff, AssigneeStaffId: amadouID}, ids(b.a2, b.a1, b.a0)},
		{"a supervisor's own", b.chief, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME}, ids()},
		{"unassigned", b.chief, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED}, ids(b.b1, b.b0, b.a2, b.a1)},
		{"programme", b.chief, &intakev1.ListCasesRequest{Programme: commonv1.Programme_PROGRAMME_VOT}, ids(b.a1)},
		{"status", b.chief, &intakev1.ListCasesRequest{Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE}, ids(b.a1)},
		{"vulnerability", b.chief, &intakev1.ListCasesRequest{Vulnerability: commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS}, ids(b.b1, b.b0, b.a1, b.a0)},
		{"active after", b.chief, &intakev1.ListCasesRequest{ActiveAfter: b.b1.GetUpdateTime()}, ids(b.a1)},
		{"active before", b.chief, &intakev1.ListCasesRequest{ActiveBefore: b.a1.GetUpdateTime()}, ids(b.b1, b.b0, b.a2, b.a0)},
		{"filters together", b.amadou, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME,
			Programme: commonv1.Programme_PROGRAMME_AVRR, Vulnerability: commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS}, ids(b.a0)},
		{"registered, oldest first", b.chief, &intakev1.ListCasesRequest{OrderBy: intakev1.CaseOrder_CASE_ORDER_REGISTERED_ASC}, ids(b.a0, b.a1, b.a2, b.b0, b.b1)},
		{"active, latest first", b.chief, &intakev1.ListCasesRequest{OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_DESC}, ids(b.a1, b.b1, b.b0, b.a2, b.a0)},
		{"active, longest waiting first", b.chief, &intakev1.ListCasesRequest{OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC}, ids(b.a0, b.a2, b.b0, b.b1, b.a1)},
		{"another mission's", b.otherCaseworker, &intakev1.ListCasesRequest{}, ids(b.deu)},
		{"another mission's unassigned", b.otherChief, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED}, ids(b.deu)},
	} {
		got, _ := b.listAll(t, tt.ctx, tt.req)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCaseloadCounts(t *testing.T) {
	t.Parallel()
	b := setupCaseload(t)
	_, counts := b.listAll(t, b.chief, &intakev1.ListCasesRequest{})
	want := &intakev1.CaseCounts{Total: 5,
		ByStatus: []*intakev1.StatusCount{
			{Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE, Count: 1},
			{Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, Count: 4}},
		ByProgramme: []*intakev1.ProgrammeCount{
			{Programme: commonv1.Programme_PROGRAMME_AVRR, Count: 4},
			{Programme: commonv1.Programme_PROGRAMME_VOT, Count: 1}}}
	if diff := cmp.Diff(want, counts, protocmp.Transform()); diff != "" {
		t.Errorf("the mission's counts (-want +got):\n%s", diff)
	}
	_, counts = b.listAll(t, b.binta, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME,
		Programme: commonv1.Programme_PROGRAMME_AVRR})
	want = &intakev1.CaseCounts{Total: 3,
		ByStatus:    []*intakev1.StatusCount{{Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, Count: 3}},
		ByProgramme: []*intakev1.ProgrammeCount{{Programme: commonv1.Programme_PROGRAMME_AVRR, Count: 3}}}
	if diff := cmp.Diff(want, counts, protocmp.Transform()); diff != "" {
		t.Errorf("Binta's AVRR counts (-want +got):\n%s", diff)
	}
	_, counts = b.listAll(t, b.chief, &intakev1.ListCasesRequest{Status: intakev1.CaseStatus_CASE_STATUS_CLOSED})
	if diff := cmp.Diff(&intakev1.CaseCounts{}, counts, protocmp.Transform()); diff != "" {
		t.Errorf("counts of nothing (-want +got):\n%s", diff)
	}
}

func TestCaseloadNames(t *testing.T) {
	t.Parallel()
	b := setupCaseload(t)
	withNames := func(p commonv1.AccessPurpose) *intakev1.ListCasesRequest {
		return &intakev1.ListCasesRequest{View: intakev1.CaseListView_CASE_LIST_VIEW_WITH_NAMES, Purpose: p}
	}
	name := func(c *intakev1.Case, given string) *intakev1.CaseName {
		return &intakev1.CaseName{CaseId: c.GetCaseId(), GivenName: given, FamilyName: "Zawadi-Okonkwo"}
	}
	_, err := b.client.BreakGlass(b.chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: b.b0.GetCaseId(),
		Reason: "the person is in hospital and the hospital asks who she is", Duration: durationpb.New(20 * time.Minute)})
	if err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}

	for _, tt := range []struct {
		name string
		ctx  context.Context
		req  *intakev1.ListCasesRequest
		want []*intakev1.CaseName
	}{
		{"registrar", b.amadou, withNames(caseManagement), []*intakev1.CaseName{name(b.a2, "Ali"), name(b.a1, "Aissa"), name(b.a0, "Adama")}},
		{"registrar and assignee", b.binta, withNames(caseManagement), []*intakev1.CaseName{name(b.b1, "Bintou"), name(b.b0, "Bako"), name(b.a0, "Adama")}},
		{"a supervisor works on none", b.chief, withNames(caseManagement), nil},
		{"a supervisor under a grant", b.chief, withNames(breakGlass), []*intakev1.CaseName{name(b.b0, "Bako")}},
		{"a caseworker claiming an emergency", b.amadou, withNames(breakGlass), nil},
		{"basic view", b.amadou, &intakev1.ListCasesRequest{}, nil},
	} {
		before := len(b.env.AuditRecords(t, intakev1.IntakeService_ListCases_FullMethodName))
		resp, err := b.client.ListCases(tt.ctx, tt.req)
		if err != nil {
			t.Fatalf("%s: ListCases: %v", tt.name, err)
		}
		if len(resp.GetCases()) != 5 {
			t.Errorf("%s: %d cases listed, want every case with or without names", tt.name, len(resp.GetCases()))
		}
		if diff := cmp.Diff(tt.want, resp.GetNames(), protocmp.Transform()); diff != "" {
			t.Errorf("%s: names (-want +got):\n%s", tt.name, diff)
		}
		// One identity read recorded per case named, with the purpose; none for a list without.
		records := b.env.AuditRecords(t, intakev1.IntakeService_ListCases_FullMethodName)[before:]
		var audited []string
		for _, r := range records {
			if r.Mission != "NER" || r.Reason != tt.req.GetPurpose().String() {
				t.Errorf("%s: audit record %+v, want NER's with the purpose", tt.name, r)
			}
			audited = append(audited, r.AggregateID)
		}
		var named []string
		for _, n := range tt.want {
			named = append(named, n.GetCaseId())
		}
		if diff := cmp.Diff(named, audited); diff != "" {
			t.Errorf("%s: audited reads (-want +got):\n%s", tt.name, diff)
		}
	}

	// A name comes with a purpose, and only for roles that read identity.
	_, err = b.client.ListCases(b.amadou, withNames(commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED))
	wantField(t, err, "purpose")
}

func TestCaseloadRefusals(t *testing.T) {
	t.Parallel()
	b := setupCaseload(t)
	first, err := b.client.ListCases(b.chief, &intakev1.ListCasesRequest{PageSize: 2, OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC})
	if err != nil {
		t.Fatal(err)
	}
	at := timestamppb.New(today)
	for _, tt := range []struct {
		field string
		req   *intakev1.ListCasesRequest
	}{
		{"assignee_staff_id", &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF}},
		{"assignee_staff_id", &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME, AssigneeStaffId: bintaID}},
		{"assignee", &intakev1.ListCasesRequest{Assignee: 9}},
		{"vulnerability", &intakev1.ListCasesRequest{Vulnerability: 99}},
		{"order_by", &intakev1.ListCasesRequest{OrderBy: 9}},
		{"view", &intakev1.ListCasesRequest{View: 9}},
		{"active_after", &intakev1.ListCasesRequest{ActiveAfter: &timestamppb.Timestamp{Nanos: -1}}},
		{"active_before", &intakev1.ListCasesRequest{ActiveAfter: at, ActiveBefore: at}},
		// A token of another order, or of other filters, is refused.
		{"page_token", &intakev1.ListCasesRequest{PageToken: first.GetNextPageToken()}},
		{"page_token", &intakev1.ListCasesRequest{PageToken: first.GetNextPageToken(), OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC,
			Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED}},
	} {
		_, err := b.client.ListCases(b.chief, tt.req)
		wantField(t, err, tt.field)
	}
	// A caseworker lists their own caseload, not a colleague's.
	_, err = b.client.ListCases(b.amadou, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF, AssigneeStaffId: bintaID})
	testserver.WantCode(t, err, codes.PermissionDenied)
}

// A case handed over to a mission is not in that mission's caseload, even for the staff it
// assigned to the case (docs/proposals/handover.md).
func TestCaseloadLeavesOutSharedCases(t *testing.T) {
	t.Parallel()
	b := setupShare(t)
	c := b.register(t)
	b.handOver(t, c, commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED, 1)
	b.assign(t, b.irqChief, c, irqWorkerID)
	if _, err := b.client.GetCase(b.irqWorker, basicRead(c.GetCaseId())); err != nil {
		t.Fatalf("the receiving mission reads the shared case: %v", err)
	}
	for name, req := range map[string]*intakev1.ListCasesRequest{
		"every case": {},
		"mine, with names": {Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME, View: intakev1.CaseListView_CASE_LIST_VIEW_WITH_NAMES,
			Purpose: caseManagement},
		"unassigned": {Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED},
	} {
		resp, err := b.client.ListCases(b.irqWorker, req)
		if err != nil {
			t.Fatalf("%s: ListCases: %v", name, err)
		}
		if len(resp.GetCases()) != 0 || len(resp.GetNames()) != 0 || resp.GetCounts().GetTotal() != 0 {
			t.Errorf("%s: IRQ's caseload lists %v", name, resp)
		}
	}
}

// wantField fails the test unless err is INVALID_ARGUMENT naming field, and only it.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if got := testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument)); !slices.Equal(got, []string{field}) {
		t.Errorf("violations %v, want [%s]", got, field)
	}
}
