package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestCaseloadRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		f       listFlags
		want    *intakev1.ListCasesRequest
		wantErr string
	}{
		{name: "mine", f: listFlags{mine: true}, want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME}},
		{name: "a colleague's", f: listFlags{assignee: "cw-binta"},
			want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF, AssigneeStaffId: "cw-binta"}},
		{name: "unassigned, waiting longest", f: listFlags{unassigned: true, sort: "activity_asc", vulnerability: "medical_needs",
			activeBefore: "2026-03-01", activeAfter: "2026-01-01T08:00:00Z"},
			want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED,
				OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC, Vulnerability: commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS,
				ActiveAfter:  timestamppb.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)),
				ActiveBefore: timestamppb.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}},
		{name: "names", f: listFlags{mine: true, names: true, purpose: "case_management"},
			want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME,
				View: intakev1.CaseListView_CASE_LIST_VIEW_WITH_NAMES, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}},
		{name: "two assignees", f: listFlags{mine: true, unassigned: true}, wantErr: "--mine, --assignee and --unassigned go one at a time"},
		{name: "names without purpose", f: listFlags{names: true}, wantErr: "case list --names needs --purpose: " + accessPurposes.list()},
		{name: "purpose without names", f: listFlags{purpose: "case_management"}, wantErr: "--purpose goes with --names"},
		{name: "time", f: listFlags{activeAfter: "yesterday"}, wantErr: "--active-after must be RFC 3339 (2026-11-27T05:00:00Z) or a date (2026-11-27)"},
		{name: "sort", f: listFlags{sort: "name"}, wantErr: "--sort must be one of " + caseOrders.list()},
	}
	for _, tt := range tests {
		got, err := tt.f.request()
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: request (-want +got):\n%s", tt.name, diff)
		}
	}
}

// With --names, a NAME column shows the names the server returned, "-" for the others; the
// counts go to stderr.
func TestListCommandNames(t *testing.T) {
	t.Parallel()
	second := testCase()
	second.CaseId = "8b0e5a1c-2d3f-4e5a-8b6c-7d8e9f0a1b2c"
	fake := &fakeIntake{pages: map[string]*intakev1.ListCasesResponse{
		"": {Cases: []*intakev1.Case{testCase(), second},
			Names: []*intakev1.CaseName{{CaseId: second.GetCaseId(), GivenName: "Amina", FamilyName: "Zawadi-Okonkwo"}},
			Counts: &intakev1.CaseCounts{Total: 2,
				ByStatus:    []*intakev1.StatusCount{{Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, Count: 2}},
				ByProgramme: []*intakev1.ProgrammeCount{{Programme: commonv1.Programme_PROGRAMME_AVRR, Count: 2}}}},
	}}
	c, stdout, stderr := newTestCLI(fake, map[string]string{"PASSAGE_TOKEN": "tok"})
	if err := c.caseRun(t.Context(), []string{"list", "--mine", "--names", "--purpose", "case_management"}); err != nil {
		t.Fatalf("list --names: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "  NAME") || !strings.HasSuffix(lines[1], "  -") ||
		!strings.HasSuffix(lines[2], "  Amina Zawadi-Okonkwo") {
		t.Errorf("stdout:\n%s\nwant a NAME column with the second case's name only", stdout)
	}
	if want := "2 cases match: REGISTERED 2, AVRR 2\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}
