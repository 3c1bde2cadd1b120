package hasm_test

import (
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/testserver"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// TestRacingRetries: calls that race for one request id and lose it (testserver.Race) answer
// with the first result when they are retries of it, and are refused on request_id when they
// are another request; either way one row is written.
func TestRacingRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("CreateFund retried", func(t *testing.T) {
		req := &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-RACE", Year: 2026, Currency: "USD", Budget: 50_000}
		call := func() (*hasmv1.CreateFundResponse, error) { return b.client.CreateFund(b.hq, proto.CloneOf(req)) }
		got, errs := testserver.Race(t, b.env, "hasm.idempotency", call, call)
		testserver.WantAlike(t, got, errs)
		if n := b.env.Count(t, "hasm.fund WHERE code = 'HASM-RACE'"); n != 1 {
			t.Errorf("%d funds written, want 1", n)
		}
	})

	t.Run("RequestAssistance for another case under the same request id", func(t *testing.T) {
		b.createFund(t, "HASM-RACE-2", 100_000)
		first, second := assistance(b.hasmCase(t).GetCaseId(), "HASM-RACE-2", 5_000), assistance(b.hasmCase(t).GetCaseId(), "HASM-RACE-2", 5_000)
		second.RequestId = first.GetRequestId()
		request := func(req *hasmv1.RequestAssistanceRequest) func() (*hasmv1.RequestAssistanceResponse, error) {
			return func() (*hasmv1.RequestAssistanceResponse, error) { return b.client.RequestAssistance(b.worker, req) }
		}
		_, errs := testserver.Race(t, b.env, "hasm.idempotency", request(first), request(second))
		testserver.WantOneThrough(t, errs)
		if n := b.env.Count(t, "hasm.request WHERE fund_code = 'HASM-RACE-2'"); n != 1 {
			t.Errorf("%d requests written, want 1", n)
		}
	})
}
