package followup_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

// TestLeaversFollowUpsReleased: a follow-up a supervisor assigned to a caseworker who is then
// deactivated (StaffService) goes back to the unassigned, at a new version, and a
// deactivated caseworker can be given none.
func TestLeaversFollowUpsReleased(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.openFollowUp(t)
	admin := b.env.As(t, auth.RoleAdmin, auth.MissionHQ)
	staff := staffv1.NewStaffServiceClient(b.env.Conn)
	m, err := staff.ProvisionStaff(admin, &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: "staff-idris",
		Mission: "DEU", Role: "caseworker"})
	if err != nil {
		t.Fatalf("ProvisionStaff: %v", err)
	}
	if _, err := b.client.AssignFollowUp(b.boss, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(),
		FollowUpId: f.GetFollowUpId(), Version: f.GetVersion(), Assignee: "staff-idris"}); err != nil {
		t.Fatalf("AssignFollowUp: %v", err)
	}
	idris := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_STAFF, StaffSubject: "staff-idris"}
	one := []string{f.GetFollowUpId()}
	if got := b.ids(t, b.boss, idris); !slices.Equal(got, one) {
		t.Fatalf("idris's: %v; want %v", got, one)
	}
	if _, err := staff.DeactivateStaff(admin, &staffv1.DeactivateStaffRequest{RequestId: uuid.NewString(), StaffId: "staff-idris",
		Version: m.GetMember().GetVersion()}); err != nil {
		t.Fatalf("DeactivateStaff: %v", err)
	}
	nobodys := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_UNASSIGNED}
	b.await(t, "the leaver's follow-up to be released", func() bool { return slices.Equal(b.ids(t, b.boss, nobodys), one) })
	if got := b.ids(t, b.boss, idris); len(got) != 0 {
		t.Errorf("the leaver's after the release: %v", got)
	}
	_, err = b.client.AssignFollowUp(b.boss, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(),
		FollowUpId: f.GetFollowUpId(), Version: f.GetVersion() + 2, Assignee: "staff-idris"})
	testserver.WantCode(t, err, codes.FailedPrecondition)
}
