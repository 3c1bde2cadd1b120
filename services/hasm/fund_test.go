package hasm_test

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/testserver"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// Concurrent approvals against a fund that can afford only some of them: exactly the
// affordable number succeed, the others are refused, and committed never exceeds the budget.
func TestConcurrentApprovalsNeverOverdraw(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const requests, cost, affordable = 12, 10_000, 5
	b.createFund(t, "HASM-RACE", affordable*cost+cost/2)
	pending := make([]*hasmv1.AssistanceRequest, requests)
	for i := range pending {
		pending[i] = b.requestFor(t, "HASM-RACE", cost)
	}

	errs := make([]error, requests)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i, r := range pending {
		wg.Go(func() {
			start.Wait()
			_, errs[i] = b.client.DecideRequest(b.hq, approval(r))
		})
	}
	start.Done()
	wg.Wait()

	approved, refused := 0, 0
	for i, err := range errs {
		switch st := status.Convert(err); {
		case err == nil:
			approved++
		case st.Code() == codes.FailedPrecondition && errorInfo(st).GetReason() == "FUND_INSUFFICIENT":
			refused++
		default:
			t.Errorf("approval %d: %v", i, err)
		}
	}
	if approved != affordable || refused != requests-affordable {
		t.Errorf("%d approved and %d refused, want %d and %d", approved, refused, affordable, requests-affordable)
	}
	fund, err := b.client.GetFund(b.hq, &hasmv1.GetFundRequest{Code: "HASM-RACE", Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	f := fund.GetFund()
	if f.GetCommitted() != affordable*cost || f.GetCommitted() > f.GetBudget() {
		t.Errorf("fund committed %d of %d, want %d", f.GetCommitted(), f.GetBudget(), affordable*cost)
	}
	// The fund's committed amount is exactly what the approved requests hold.
	rows := b.query(t, `SELECT count(*)::int, coalesce(sum(approved_amount), 0)::int FROM hasm.request WHERE status = 'APPROVED'`)
	var n, sum int
	if _, err := pgx.ForEachRow(rows, []any{&n, &sum}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n != affordable || int64(sum) != f.GetCommitted() {
		t.Errorf("%d approved requests hold %d, want %d holding the fund's %d", n, sum, affordable, f.GetCommitted())
	}
}

func TestFunds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created, err := b.client.CreateFund(b.admin, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-2026", Year: 2026, Currency: "EUR", Budget: 500})
	if err != nil {
		t.Fatalf("CreateFund as admin: %v", err)
	}
	f := created.GetFund()
	if f.GetRemaining() != 500 || f.GetCommitted() != 0 || f.GetVersion() != 1 || uuid.Validate(f.GetFundId()) != nil {
		t.Errorf("created fund = %v", f)
	}

	// The same code and year again is refused; another year is another fund.
	_, err = b.client.CreateFund(b.hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-2026", Year: 2026, Currency: "EUR", Budget: 1})
	testserver.WantCode(t, err, codes.AlreadyExists)
	if _, err := b.client.CreateFund(b.hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-2026", Year: 2027, Currency: "EUR", Budget: 1}); err != nil {
		t.Errorf("the same code for another year: %v", err)
	}

	// Budget changes take the version read, and cannot go below what is committed.
	set := func(version, budget int64) (*hasmv1.Fund, error) {
		resp, err := b.client.SetFundBudget(b.hq, &hasmv1.SetFundBudgetRequest{RequestId: uuid.NewString(), Code: "HASM-2026", Year: 2026, Version: version, Budget: budget})
		return resp.GetFund(), err
	}
	if f, err = set(1, 900); err != nil {
		t.Fatalf("SetFundBudget: %v", err)
	}
	if f.GetBudget() != 900 || f.GetRemaining() != 900 || f.GetVersion() != 2 {
		t.Errorf("fund after SetFundBudget = %v", f)
	}
	_, err = set(1, 100)
	if info := errorInfo(testserver.WantCode(t, err, codes.FailedPrecondition)); info.GetReason() != "STALE_VERSION" || info.GetMetadata()["current_version"] != "2" {
		t.Errorf("stale budget change details = %v", info)
	}
	c := b.hasmCase(t)
	req := assistance(c.GetCaseId(), "HASM-2026", 600)
	req.Currency = "EUR"
	r, err := b.client.RequestAssistance(b.worker, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.DecideRequest(b.hq, approval(r.GetRequest())); err != nil {
		t.Fatal(err)
	}
	before := b.stored(t)
	_, err = set(2, 599)
	if info := errorInfo(testserver.WantCode(t, err, codes.FailedPrecondition)); info.GetReason() != "BUDGET_BELOW_COMMITTED" || info.GetMetadata()["committed"] != "600" {
		t.Errorf("budget below committed details = %v", info)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a refused budget change wrote (-before +after):\n%s", diff)
	}
	if f, err = set(2, 600); err != nil || f.GetRemaining() != 0 {
		t.Errorf("budget set to exactly what is committed = %v, %v", f, err)
	}

	_, err = b.client.GetFund(b.hq, &hasmv1.GetFundRequest{Code: "NO-SUCH-FUND", Year: 2026})
	testserver.WantCode(t, err, codes.NotFound)

	var types []string
	for _, e := range b.events(t) {
		if e.Mission == "HQ" {
			types = append(types, e.Type)
		}
	}
	want := []string{"passage.hasm.v1.FundCreated", "passage.hasm.v1.FundCreated", "passage.hasm.v1.FundBudgetSet", "passage.hasm.v1.FundBudgetSet"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("HQ's fund events (-want +got):\n%s", diff)
	}
}

// Closing an approved request before departure gives its amount back to the fund.
func TestClosingAnApprovedRequestReleasesItsAmount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-CLOSE", 50_000)
	r := b.requestFor(t, "HASM-CLOSE", 40_000)
	decided, err := b.client.DecideRequest(b.hq, approval(r))
	if err != nil {
		t.Fatal(err)
	}
	closed, err := b.client.CloseRequest(b.worker, closing(decided.GetRequest(), hasmv1.ClosureReason_CLOSURE_REASON_WITHDRAWN))
	if err != nil {
		t.Fatalf("CloseRequest: %v", err)
	}
	if got := closed.GetRequest(); got.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_CLOSED || got.GetClosureReason() != hasmv1.ClosureReason_CLOSURE_REASON_WITHDRAWN {
		t.Errorf("closed request = %v", got)
	}
	fund, err := b.client.GetFund(b.hq, &hasmv1.GetFundRequest{Code: "HASM-CLOSE", Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if fund.GetFund().GetCommitted() != 0 || fund.GetFund().GetRemaining() != 50_000 {
		t.Errorf("fund after the closure = %v, want everything released", fund.GetFund())
	}
	events := b.events(t)
	if e := events[len(events)-1].Payload.(*hasmv1.RequestClosed); e.GetReleasedAmount() != 40_000 {
		t.Errorf("RequestClosed released %d, want 40000", e.GetReleasedAmount())
	}

	// A request closed before any decision releases nothing.
	other := b.requestFor(t, "HASM-CLOSE", 1_000)
	if _, err := b.client.CloseRequest(b.worker, closing(other, hasmv1.ClosureReason_CLOSURE_REASON_CANCELLED)); err != nil {
		t.Fatal(err)
	}
	events = b.events(t)
	if e := events[len(events)-1].Payload.(*hasmv1.RequestClosed); e.GetReleasedAmount() != 0 {
		t.Errorf("closing an undecided request released %d", e.GetReleasedAmount())
	}
}
