package followup_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/testserver"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// TestRacingRequestIDOfAnotherFollowUp: closes of two follow-ups under one request id race for
// it (testserver.Race); one goes through and the other is refused on request_id, closing
// nothing.
func TestRacingRequestIDOfAnotherFollowUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, second := b.openFollowUp(t), b.openFollowUp(t)
	requestID := uuid.NewString()
	closeOne := func(f *followupv1.FollowUp) func() (*followupv1.CloseFollowUpResponse, error) {
		return func() (*followupv1.CloseFollowUpResponse, error) {
			return b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: requestID, FollowUpId: f.GetFollowUpId(),
				Version: 1, Outcome: followupv1.Outcome_OUTCOME_DONE})
		}
	}
	_, errs := testserver.Race(t, b.env, "followup.idempotency", closeOne(first), closeOne(second))
	testserver.WantOneThrough(t, errs)
	open := 0
	for _, f := range []*followupv1.FollowUp{first, second} {
		got, err := b.client.GetFollowUp(b.worker, &followupv1.GetFollowUpRequest{FollowUpId: f.GetFollowUpId()})
		if err != nil {
			t.Fatal(err)
		}
		if isOpen(got.GetFollowUp()) {
			open++
		}
	}
	if open != 1 {
		t.Errorf("%d of the two follow-ups are open after the race, want 1", open)
	}
}
