package trafficking_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/testserver"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// TestRacingRequestIDOfAnotherCase: the case's row lock lines retries of one change up, so a
// retry finds the first result and never loses the race for its request id; a change of another
// case under the same request id races for it and loses (testserver.Race), and is refused on
// request_id with nothing written.
func TestRacingRequestIDOfAnotherCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, second := b.newVictim(t, presumed), b.newVictim(t, presumed)
	id := uuid.NewString()
	assist := func(c *traffickingv1.VictimCase) func() (*traffickingv1.RecordAssistanceResponse, error) {
		return func() (*traffickingv1.RecordAssistanceResponse, error) {
			return b.vot.RecordAssistance(b.worker, &traffickingv1.RecordAssistanceRequest{RequestId: id, CaseId: c.GetCaseId(),
				Version: c.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_LEGAL, StartDate: day(2026, 3, 2), Provider: "LAWYERS-TH"})
		}
	}
	before := b.stored(t)
	_, errs := testserver.Race(t, b.env, "trafficking.idempotency", assist(first), assist(second))
	testserver.WantOneThrough(t, errs)
	after := b.stored(t)
	if after["trafficking.assistance"] != before["trafficking.assistance"]+1 || after["trafficking.idempotency"] != before["trafficking.idempotency"]+1 {
		t.Errorf("rows %v -> %v, want one assistance record and one first result more", before, after)
	}
}
