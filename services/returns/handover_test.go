package returns_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/returns"
)

var (
	reception     = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	reintegration = handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION
	monitoring    = handoverv1.HandoverPart_HANDOVER_PART_MONITORING
	closure       = handoverv1.HandoverPart_HANDOVER_PART_CLOSURE
	transfer      = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// handOver writes the hand-over service's acceptance of parts of a DEU case by the mission to,
// as that service writes it: an outbox event under the receiving mission.
func (b *bundle) handOver(t *testing.T, caseID, to string, parts ...handoverv1.HandoverPart) {
	t.Helper()
	e := &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: caseID, FromMission: "DEU", ToMission: to,
		Programme: commonv1.Programme_PROGRAMME_AVRR, Parts: parts, ProfileVersion: 1, Version: 2}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: "handover", AggregateID: uuid.MustParse(e.GetCaseId()), Mission: to, Payload: e}}); err != nil {
		t.Fatal(err)
	}
	batch := &pgx.Batch{}
	database.QueueMission(batch, to)
	st.Queue(batch)
	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return tx.SendBatch(ctx, batch).Close() }); err != nil {
			t.Fatal(err)
		}
	})
}

// visible counts the rows of a fact table about a case that returns' own role reads in a
// transaction declared for mission: what row-level security lets through, whatever the server.
func visible(t *testing.T, pool database.Querier, mission, table, caseID string) int {
	t.Helper()
	var n int
	b := &pgx.Batch{}
	database.QueueMission(b, mission)
	b.Queue(`SELECT count(*) FROM `+table+` WHERE case_id = $1`, caseID).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	// A batch runs in one implicit transaction: the declaration holds for the count.
	if err := pool.SendBatch(context.Background(), b).Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// refusedPart checks err is a step refused for its part: FAILED_PRECONDITION with the reason and
// the part and holder's codes.
func refusedPart(t *testing.T, err error, reason string, part handoverv1.HandoverPart, mission string) {
	t.Helper()
	st := testserver.WantCode(t, err, codes.FailedPrecondition)
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	want := map[string]string{"part": part.String()[len("HANDOVER_PART_"):], "mission": mission}
	if info.GetReason() != reason || !cmp.Equal(info.GetMetadata(), want) {
		t.Errorf("refusal %s %v, want %s %v", info.GetReason(), info.GetMetadata(), reason, want)
	}
}

func holders(mission string, parts ...handoverv1.HandoverPart) []*returnsv1.PartHolder {
	out := make([]*returnsv1.PartHolder, len(parts))
	for i, p := range parts {
		out[i] = &returnsv1.PartHolder{Part: p, Mission: mission}
	}
	return out
}

// TestHandoverToOrigin: IOM Germany hands a family's reception, reintegration, monitoring and
// closure to IOM Iraq before departure. Germany departs them; Iraq receives them, plans,
// assists, monitors and closes. Germany keeps the outcomes (status, arrival, closure), never
// Iraq's plan, assistance or visit scores; Turkey, a third mission, sees nothing.
func TestHandoverToOrigin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	iraq, iraqBoss, turkey := b.env.As(t, auth.RoleCaseworker, "IRQ"), b.env.As(t, auth.RoleSupervisor, "IRQ"), b.env.As(t, auth.RoleCaseworker, "TUR")
	pool := b.env.Pool(t, returns.Role)
	r := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)
	id := r.GetCaseId()
	b.handOver(t, id, "IRQ", reception, reintegration, monitoring, closure)

	// Iraq's first read after the acceptance waits for the consumer instead of NOT_FOUND.
	got, err := b.client.GetReturn(iraq, &returnsv1.GetReturnRequest{CaseId: id})
	if err != nil {
		t.Fatalf("IRQ GetReturn: %v", err)
	}
	seen := got.GetReturn()
	if seen.GetMission() != "DEU" || len(seen.GetMembers()) != 2 || len(seen.GetEligibilityDecisions()) != 0 ||
		!cmp.Equal(seen.GetPartHolders(), holders("IRQ", reception, reintegration, monitoring, closure), protocmp.Transform()) {
		t.Errorf("IRQ reads %v", seen)
	}
	// Before departure the steps are Germany's: Iraq may not take them.
	_, err = b.client.RecordDeparture(iraq, departure(seen))
	refusedPart(t, err, "PART_NOT_HELD", transfer, "DEU")

	r = b.depart(t, r)
	if !cmp.Equal(r.GetPartHolders(), holders("IRQ", reception, reintegration, monitoring, closure), protocmp.Transform()) {
		t.Errorf("DEU sees the parts held as %v", r.GetPartHolders())
	}

	// Reception is Iraq's now: Germany is refused and told who holds it; nothing is written.
	before := b.stored(t)
	_, err = b.client.RecordArrival(b.worker, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3)}})
	refusedPart(t, err, "PART_HANDED_OVER", reception, "IRQ")
	_, err = b.client.CloseReturn(b.worker, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY})
	refusedPart(t, err, "PART_HANDED_OVER", closure, "IRQ")
	// A third mission cannot tell the return exists.
	_, err = b.client.GetReturn(turkey, &returnsv1.GetReturnRequest{CaseId: id})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.RecordArrival(turkey, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3)}})
	testserver.WantCode(t, err, codes.NotFound)
	if list, err := b.client.ListReturns(turkey, &returnsv1.ListReturnsRequest{}); err != nil || len(list.GetReturns()) != 0 {
		t.Errorf("TUR lists %v, %v; want nothing", list.GetReturns(), err)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refusals wrote (-before +after):\n%s", diff)
	}

	// Iraq receives them; a retry of its request is answered alike and writes nothing.
	arrival := &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3)}}
	first, err := b.client.RecordArrival(iraq, arrival)
	if err != nil {
		t.Fatalf("IRQ RecordArrival: %v", err)
	}
	before = b.stored(t)
	again, err := b.client.RecordArrival(iraq, proto.CloneOf(arrival))
	if err != nil {
		t.Fatalf("IRQ RecordArrival retried: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("a retry returned another result (-first +retry):\n%s", diff)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a retry wrote (-before +after):\n%s", diff)
	}
	r = first.GetReturn()
	// A step on the version read before the arrival is stale.
	_, err = b.client.SetReintegrationPlan(iraq, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion() - 1, Plan: businessPlan()})
	if st := testserver.WantCode(t, err, codes.FailedPrecondition); reason(st) != "STALE_VERSION" {
		t.Errorf("reason %q, want STALE_VERSION", reason(st))
	}
	plan, err := b.client.SetReintegrationPlan(iraq, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Plan: businessPlan()})
	if err != nil {
		t.Fatalf("IRQ SetReintegrationPlan: %v", err)
	}
	aid, err := b.client.RecordAssistance(iraq, &returnsv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: plan.GetReturn().GetVersion(), Assistance: &returnsv1.Assistance{
			Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP, Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC,
			Value: &returnsv1.Money{CurrencyCode: "IQD", AmountMinor: 250000000}, DeliveryDate: day(2026, 2, 20), Provider: "IOM-IRQ",
		}})
	if err != nil {
		t.Fatalf("IRQ RecordAssistance: %v", err)
	}
	visit, err := b.client.RecordMonitoringVisit(iraq, &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: aid.GetReturn().GetVersion(), Visit: &returnsv1.MonitoringVisit{VisitDate: day(2026, 3, 1),
			EconomicScore: proto.Float64(0.6), SocialScore: proto.Float64(0.7), PsychosocialScore: proto.Float64(0.5)}})
	if err != nil {
		t.Fatalf("IRQ RecordMonitoringVisit: %v", err)
	}
	// Germany may not reopen what Iraq closes; Iraq's supervisor may.
	closed, err := b.client.CloseReturn(iraq, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: visit.GetReturn().GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED})
	if err != nil {
		t.Fatalf("IRQ CloseReturn: %v", err)
	}
	_, err = b.client.ReopenReturn(b.boss, &returnsv1.ReopenReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: closed.GetReturn().GetVersion(), Reason: returnsv1.ReopenReason_REOPEN_REASON_CLOSED_IN_ERROR})
	refusedPart(t, err, "PART_HANDED_OVER", closure, "IRQ")
	if _, err := b.client.ReopenReturn(iraqBoss, &returnsv1.ReopenReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: closed.GetReturn().GetVersion(), Reason: returnsv1.ReopenReason_REOPEN_REASON_CLOSED_IN_ERROR}); err != nil {
		t.Fatalf("IRQ ReopenReturn: %v", err)
	}

	// Iraq's events are written under Iraq: the outbox holds each under the mission that acted.
	for _, e := range b.env.AggregateEvents(t, "returns", id) {
		want := "IRQ"
		if e.Type == string(proto.MessageName(&returnsv1.EligibilityDecided{})) || e.Type == string(proto.MessageName(&commonv1.DepartureRecorded{})) {
			want = "DEU"
		}
		if e.Mission != want {
			t.Errorf("event %s recorded under %s, want %s", e.Type, e.Mission, want)
		}
	}

	// Germany sees the outcomes: status, arrival, closing and reopening; no plan, assistance or
	// visit. Iraq sees its own work and the departure it builds on, not Germany's eligibility.
	deu, err := b.client.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	d := deu.GetReturn()
	if d.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION || d.GetArrival() == nil || len(d.GetStatusChanges()) != 2 ||
		len(d.GetEligibilityDecisions()) != 1 || d.GetDeparture() == nil {
		t.Errorf("DEU does not see the outcomes: %v", d)
	}
	if len(d.GetReintegrationPlans())+len(d.GetAssistance())+len(d.GetMonitoringVisits()) != 0 {
		t.Errorf("DEU sees IRQ's details: plans %v, assistance %v, visits %v", d.GetReintegrationPlans(), d.GetAssistance(), d.GetMonitoringVisits())
	}
	irq, err := b.client.GetReturn(iraq, &returnsv1.GetReturnRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	i := irq.GetReturn()
	if len(i.GetReintegrationPlans()) != 1 || len(i.GetAssistance()) != 1 || len(i.GetMonitoringVisits()) != 1 ||
		i.GetDeparture() == nil || i.GetArrival() == nil || len(i.GetEligibilityDecisions()) != 0 || i.GetVersion() != d.GetVersion() {
		t.Errorf("IRQ reads %v", i)
	}
	// Row-level security says the same to the service's own role, whatever the server does.
	for table, want := range map[string][2]int{
		"returns.eligibility_decision": {1, 0},
		"returns.departure":            {1, 1},
		"returns.arrival":              {1, 1},
		"returns.reintegration_plan":   {0, 1},
		"returns.assistance":           {0, 1},
		"returns.monitoring_visit":     {0, 1},
		"returns.status_change":        {2, 2},
	} {
		if got := [2]int{visible(t, pool, "DEU", table, id), visible(t, pool, "IRQ", table, id)}; got != want {
			t.Errorf("%s: DEU, IRQ read %v rows, want %v", table, got, want)
		}
		if n := visible(t, pool, "TUR", table, id); n != 0 {
			t.Errorf("%s: TUR reads %d rows", table, n)
		}
	}

	// Both missions list the return.
	for mission, ctx := range map[string]context.Context{"DEU": b.worker, "IRQ": iraq} {
		list, err := b.client.ListReturns(ctx, &returnsv1.ListReturnsRequest{})
		if err != nil || len(list.GetReturns()) != 1 || list.GetReturns()[0].GetCaseId() != id {
			t.Errorf("%s lists %v, %v", mission, list.GetReturns(), err)
		}
	}
}

// TestTransferGivesEveryStep: a whole case handed over takes every step to the receiver, the
// ones before departure too; the case's own mission is refused them all.
func TestTransferGivesEveryStep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	niger := b.env.As(t, auth.RoleCaseworker, "NER")
	r := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING)
	id := r.GetCaseId()
	b.handOver(t, id, "NER", transfer)

	_, err := b.client.RecordEligibility(niger, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Decision: eligibleNow()})
	if err != nil {
		t.Fatalf("NER RecordEligibility: %v", err)
	}
	got, err := b.client.GetReturn(niger, &returnsv1.GetReturnRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	r = got.GetReturn()
	if len(r.GetEligibilityDecisions()) != 1 || !cmp.Equal(r.GetPartHolders(), holders("NER", transfer, reception, reintegration, monitoring, closure), protocmp.Transform()) {
		t.Errorf("NER reads %v", r)
	}
	_, err = b.client.RecordDeparture(b.worker, departure(r))
	refusedPart(t, err, "PART_HANDED_OVER", transfer, "NER")
	_, err = b.client.CloseReturn(b.worker, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY})
	refusedPart(t, err, "PART_HANDED_OVER", transfer, "NER")

	dep, err := b.client.RecordDeparture(niger, departure(r))
	if err != nil {
		t.Fatalf("NER RecordDeparture: %v", err)
	}
	arr, err := b.client.RecordArrival(niger, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: dep.GetReturn().GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3)}})
	if err != nil {
		t.Fatalf("NER RecordArrival: %v", err)
	}
	_, err = b.client.SetReintegrationPlan(b.worker, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: arr.GetReturn().GetVersion(), Plan: businessPlan()})
	refusedPart(t, err, "PART_HANDED_OVER", reintegration, "NER")
	if _, err := b.client.CloseReturn(niger, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: arr.GetReturn().GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}); err != nil {
		t.Fatalf("NER CloseReturn: %v", err)
	}
	deu, err := b.client.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: id})
	if err != nil {
		t.Fatal(err)
	}
	if d := deu.GetReturn(); d.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_CLOSED || len(d.GetEligibilityDecisions()) != 1 ||
		d.GetArrival() == nil || len(d.GetStatusChanges()) != 1 {
		t.Errorf("DEU reads %v", d)
	}
}

// TestClosureBeforeDepartureStaysOwn: closure handed over is the receiver's once the travellers
// left; before, the case's own mission closes (a family that withdraws never reaches the
// receiver), and the receiver may not.
func TestClosureBeforeDepartureStaysOwn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	iraq := b.env.As(t, auth.RoleCaseworker, "IRQ")
	r := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)
	b.handOver(t, r.GetCaseId(), "IRQ", closure)
	withdraw := &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Reason: returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}
	_, err := b.client.CloseReturn(iraq, withdraw)
	refusedPart(t, err, "PART_NOT_HELD", transfer, "DEU")
	if got := b.close(t, r, withdraw.GetReason()); got.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_CLOSED {
		t.Errorf("DEU closes to %v", got.GetStatus())
	}
	if _, err := b.client.GetReturn(iraq, &returnsv1.GetReturnRequest{CaseId: r.GetCaseId()}); status.Code(err) != codes.OK {
		t.Errorf("IRQ GetReturn: %v", err)
	}
}

// TestPartRowSecurity: a grant is its two missions' alone, seen as returns' own role declared
// for the sender, the receiver, a third mission and none; only the receiver records one.
func TestPartRowSecurity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pool := b.env.Pool(t, returns.Role)
	id := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING).GetCaseId()
	b.handOver(t, id, "IRQ", reception)
	// The receiver's read waits for the consumer to record the grant.
	if _, err := b.client.GetReturn(b.env.As(t, auth.RoleCaseworker, "IRQ"), &returnsv1.GetReturnRequest{CaseId: id}); err != nil {
		t.Fatalf("IRQ GetReturn: %v", err)
	}
	for mission, want := range map[string]int{"DEU": 1, "IRQ": 1, "TUR": 0, "": 0} {
		if n := visible(t, pool, mission, "returns.part", id); n != want {
			t.Errorf("returns.part: %q reads %d grants, want %d", mission, n, want)
		}
	}
	forged := &pgx.Batch{}
	database.QueueMission(forged, "TUR")
	forged.Queue(`INSERT INTO returns.part (handover_id, case_id, mission, from_mission, programme, parts, accepted_at)
VALUES ($1, $2, 'IRQ', 'DEU', 'AVRR', '{TRANSFER}', now())`, uuid.New(), id)
	var pgErr *pgconn.PgError
	if err := pool.SendBatch(context.Background(), forged).Close(); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("TUR records a grant to IRQ: %v, want a row-level security violation", err)
	}
}
