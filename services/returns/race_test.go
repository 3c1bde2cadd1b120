package returns_test

import (
	"testing"

	"github.com/passage-cm/passage/internal/testserver"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// TestRacingRequestIDOfAnotherReturn: the return's row lock lines retries of one step up, so a
// retry finds the first result and never loses the race for its request id; a step of another
// return under the same request id races for it and loses (testserver.Race), and is refused on
// request_id with nothing written.
func TestRacingRequestIDOfAnotherReturn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, second := departure(b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)), departure(b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE))
	second.RequestId = first.GetRequestId()
	depart := func(req *returnsv1.RecordDepartureRequest) func() (*returnsv1.RecordDepartureResponse, error) {
		return func() (*returnsv1.RecordDepartureResponse, error) { return b.client.RecordDeparture(b.worker, req) }
	}
	before := b.stored(t)
	_, errs := testserver.Race(t, b.env, "returns.idempotency", depart(first), depart(second))
	testserver.WantOneThrough(t, errs)
	after := b.stored(t)
	if after["returns.departure"] != before["returns.departure"]+1 || after["returns.idempotency"] != before["returns.idempotency"]+1 {
		t.Errorf("rows %v -> %v, want one departure and one first result more", before, after)
	}
}
