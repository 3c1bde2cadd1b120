package followup_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/auth"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/followup"
)

// ids lists the ids of the open follow-ups req finds as ctx.
func (b *bundle) ids(t *testing.T, ctx context.Context, req *followupv1.ListFollowUpsRequest) []string {
	t.Helper()
	resp, err := b.client.ListFollowUps(ctx, req)
	if err != nil {
		t.Fatalf("ListFollowUps: %v", err)
	}
	var out []string
	for _, f := range resp.GetFollowUps() {
		out = append(out, f.GetFollowUpId())
	}
	return out
}

// TestCaseAssigneesOwnItsFollowUps: a caseworker a supervisor assigns to a case in intake
// finds the case's follow-ups under "mine" (and the supervisor finds them under theirs);
// unassigned, no longer; and a follow-up a supervisor assigns with AssignFollowUp is its
// assignee's alone, whoever works on the case.
func TestCaseAssigneesOwnItsFollowUps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseID := b.departed(t, day(2025, 6, 1)).GetCaseId()
	f := b.awaitCase(t, caseID, "the arrival confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })[0]
	one := []string{f.GetFollowUpId()}
	amira := b.env.AsStaff(t, "staff-amira", auth.RoleCaseworker, "DEU")
	omar := b.env.AsStaff(t, "staff-omar", auth.RoleCaseworker, "DEU")
	mine := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MINE}
	amiras := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_STAFF, StaffSubject: "staff-amira"}
	nobodys := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_UNASSIGNED}

	if got := b.ids(t, b.boss, nobodys); !slices.Equal(got, one) {
		t.Errorf("before any assignment, the unassigned are %v; want the arrival confirmation", got)
	}
	assign := func(staff string) {
		t.Helper()
		if _, err := b.intake.AssignCase(b.boss, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: caseID, StaffId: staff}); err != nil {
			t.Fatalf("AssignCase: %v", err)
		}
	}
	assign("staff-amira")
	b.await(t, "amira's follow-ups", func() bool { return slices.Equal(b.ids(t, amira, mine), one) })
	if got := b.ids(t, b.boss, amiras); !slices.Equal(got, one) {
		t.Errorf("the supervisor lists amira's as %v; want the arrival confirmation", got)
	}
	if got := b.ids(t, b.boss, nobodys); len(got) != 0 {
		t.Errorf("the unassigned are %v; want none, the case is amira's", got)
	}
	if got := b.ids(t, omar, mine); len(got) != 0 {
		t.Errorf("omar's are %v; want none", got)
	}

	if _, err := b.intake.UnassignCase(b.boss, &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: caseID, StaffId: "staff-amira"}); err != nil {
		t.Fatalf("UnassignCase: %v", err)
	}
	b.await(t, "amira's follow-ups to go", func() bool { return len(b.ids(t, amira, mine)) == 0 })
	if got := b.ids(t, b.boss, nobodys); !slices.Equal(got, one) {
		t.Errorf("unassigned again, the unassigned are %v; want the arrival confirmation", got)
	}

	// Two on the case; then the supervisor gives the follow-up to omar, who is not on it.
	assign("staff-amira")
	b.env.Provision(t, "staff-bilal", auth.RoleCaseworker, "DEU")
	assign("staff-bilal")
	bilal := b.env.AsStaff(t, "staff-bilal", auth.RoleCaseworker, "DEU")
	b.await(t, "amira's and bilal's follow-ups", func() bool {
		return slices.Equal(b.ids(t, amira, mine), one) && slices.Equal(b.ids(t, bilal, mine), one)
	})
	if _, err := b.client.AssignFollowUp(b.boss, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(),
		FollowUpId: f.GetFollowUpId(), Version: f.GetVersion(), Assignee: "staff-omar"}); err != nil {
		t.Fatalf("AssignFollowUp: %v", err)
	}
	if got := b.ids(t, omar, mine); !slices.Equal(got, one) {
		t.Errorf("omar's are %v; want the follow-up the supervisor gave him", got)
	}
	for name, ctx := range map[string]context.Context{"amira": amira, "bilal": bilal} {
		if got := b.ids(t, ctx, mine); len(got) != 0 {
			t.Errorf("%s's are %v; want none, the supervisor gave it to omar", name, got)
		}
	}
}

// TestCaseAssigneesStayInTheirMission: an assignment event of another mission, even about a
// case id this mission has follow-ups of, reaches none of this mission's rows, and this
// mission's events none of the other's: the consumer writes each under the event's mission,
// and row-level security keeps the rest.
func TestCaseAssigneesStayInTheirMission(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.openFollowUp(t)
	caseID := f.GetCaseId()
	changed := func(mission, staff string) *intakev1.CaseAssignmentChanged {
		return &intakev1.CaseAssignmentChanged{CaseId: caseID, Mission: mission, StaffId: staff, Assigned: true, Assignees: []string{staff}}
	}
	rows := func(mission string) int {
		return b.env.QueryInt(t, `SELECT count(*) FROM followup.case_assignee WHERE case_id = $1 AND mission = $2`, caseID, mission)
	}
	mine := &followupv1.ListFollowUpsRequest{}
	amira := b.env.AsStaff(t, "staff-amira", auth.RoleCaseworker, "DEU")

	b.publish(t, "intake", "NER", caseID, changed("NER", "staff-amira"))
	b.await(t, "NER's assignee", func() bool { return rows("NER") == 1 })
	if got := b.ids(t, amira, mine); len(got) != 0 {
		t.Errorf("NER's assignment made DEU's follow-ups amira's: %v", got)
	}
	if got := b.ids(t, b.env.AsStaff(t, "staff-amira", auth.RoleCaseworker, "NER"), mine); len(got) != 0 {
		t.Errorf("amira of NER sees %v; want none, the follow-ups are DEU's", got)
	}

	// DEU's own assignment replaces DEU's assignees of the case, and leaves NER's row be.
	b.publish(t, "intake", "DEU", caseID, changed("DEU", "staff-omar"))
	omar := b.env.AsStaff(t, "staff-omar", auth.RoleCaseworker, "DEU")
	b.await(t, "omar's follow-up", func() bool { return len(b.ids(t, omar, mine)) == 1 })
	if n, m := rows("DEU"), rows("NER"); n != 1 || m != 1 {
		t.Errorf("case assignee rows: DEU %d, NER %d; want one each", n, m)
	}

	// As the service's role, declared for DEU, only DEU's row is there.
	var n int
	if err := pgx.BeginFunc(t.Context(), b.env.Pool(t, followup.Role), func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), `SELECT set_config('passage.mission', 'DEU', true)`); err != nil {
			return err
		}
		return tx.QueryRow(t.Context(), `SELECT count(*) FROM followup.case_assignee`).Scan(&n)
	}); err != nil || n != 1 {
		t.Errorf("declared for DEU, the followup role sees %d case assignees (%v); want 1", n, err)
	}
}
