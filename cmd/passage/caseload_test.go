package main

import (
	"strings"
	"testing"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

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
