package hasm_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/hasm"
)

var (
	receptionPart = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	transferPart  = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// missions are caseworkers of Libya (the host, which registers the case), Niger (the
// receiving mission) and Mali (a third mission).
type missions struct{ lby, ner, mli context.Context }

// libya starts the services with a fund and a HASM case registered in Libya.
func libya(t *testing.T, fund string) (*bundle, missions, *intakev1.Case) {
	t.Helper()
	b := setup(t)
	m := missions{
		lby: b.env.As(t, auth.RoleCaseworker, "LBY"),
		ner: b.env.As(t, auth.RoleCaseworker, "NER"),
		mli: b.env.As(t, auth.RoleCaseworker, "MLI"),
	}
	b.createFund(t, fund, 1_000_000)
	return b, m, b.registerCase(t, m.lby, "LBY", commonv1.Programme_PROGRAMME_HASM)
}

// request makes a mission's request for a case.
func (b *bundle) request(t *testing.T, ctx context.Context, caseID, fund string, cost int64) *hasmv1.AssistanceRequest {
	t.Helper()
	resp, err := b.client.RequestAssistance(ctx, assistance(caseID, fund, cost))
	if err != nil {
		t.Fatalf("RequestAssistance: %v", err)
	}
	return resp.GetRequest()
}

// handOver writes the hand-over service's HandoverAccepted for a HASM case from LBY to NER
// into the outbox, as that service records it: under the receiving mission, filed under the
// case.
func (b *bundle) handOver(t *testing.T, caseID string, parts ...handoverv1.HandoverPart) {
	t.Helper()
	id := uuid.New()
	e := &handoverv1.HandoverAccepted{HandoverId: id.String(), CaseId: caseID, FromMission: "LBY", ToMission: "NER",
		Programme: commonv1.Programme_PROGRAMME_HASM, Parts: parts, ProfileVersion: 1, Version: 2}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: "handover", AggregateID: uuid.MustParse(caseID), Mission: "NER", Payload: e}}); err != nil {
		t.Fatal(err)
	}
	batch := &pgx.Batch{}
	st.Queue(batch)
	// The hand-over service's role, declared for the receiving mission: row-level security
	// checks the event as it checks the service's own.
	handover := database.NewDB(b.env.Pool(t, "passage_handover"))
	if err := handover.MissionTx(context.Background(), "NER", func(tx pgx.Tx) error {
		return tx.SendBatch(context.Background(), batch).Close()
	}); err != nil {
		t.Fatalf("write HandoverAccepted: %v", err)
	}
}

// visible counts the rows of a query of the test's own that the HASM role sees under a
// mission's declaration.
func (b *bundle) visible(t *testing.T, mission, sql string, args ...any) int {
	t.Helper()
	var n int
	err := pgx.BeginFunc(context.Background(), b.env.Pool(t, hasm.Role), func(tx pgx.Tx) error {
		if err := database.DeclareMission(context.Background(), tx, mission); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), sql, args...).Scan(&n)
	})
	if err != nil {
		t.Fatalf("%s under %s: %v", sql, mission, err)
	}
	return n
}

// wantHandedOver checks a refusal of a step of a part another mission holds.
func wantHandedOver(t *testing.T, name string, err error, part string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.FailedPrecondition {
		t.Errorf("%s: got %v, want FAILED_PRECONDITION", name, err)
		return
	}
	info := errorInfo(st)
	if info.GetReason() != "PART_HANDED_OVER" || info.GetMetadata()["part"] != part || info.GetMetadata()["mission"] != "NER" {
		t.Errorf("%s: ErrorInfo = %v, want PART_HANDED_OVER, part %s, mission NER", name, info, part)
	}
}

func decideFor(r *hasmv1.AssistanceRequest) *hasmv1.DecideRequestRequest {
	d := approval(r)
	d.Mission = r.GetMission()
	return d
}

// TestReception: a HASM case registered in Libya whose RECEPTION is handed over to Niger.
// Niger makes its own request for the case, HQ decides it, Niger records its departure and
// arrival (the disbursement and its confirmation); Libya is refused the steps of the part it
// handed over and reads none of Niger's request, through the API or the database; Mali sees
// nothing at all.
func TestReception(t *testing.T) {
	t.Parallel()
	b, m, c := libya(t, "HASM-RCPT")
	b.handOver(t, c.GetCaseId(), receptionPart)

	// Niger's first request after the acceptance waits for the consumer rather than finding
	// no case; a retry replays it.
	ask := assistance(c.GetCaseId(), "HASM-RCPT", 40_000)
	resp, err := b.client.RequestAssistance(m.ner, ask)
	if err != nil {
		t.Fatalf("NER RequestAssistance: %v", err)
	}
	r := resp.GetRequest()
	if r.GetMission() != "NER" || r.GetHostCountry() != "LBY" || r.GetSubjectId() != c.GetSubjectId() {
		t.Errorf("NER's request = mission %q, host %q; want NER's, for the case stranded in LBY", r.GetMission(), r.GetHostCountry())
	}
	again, err := b.client.RequestAssistance(m.ner, ask)
	if err != nil || !proto.Equal(again.GetRequest(), r) {
		t.Errorf("retried RequestAssistance = %v, %v; want the first result", again.GetRequest(), err)
	}

	// Libya: the receiving part's steps are refused, and nothing is written.
	before := b.stored(t)
	_, err = b.client.RequestAssistance(m.lby, assistance(c.GetCaseId(), "HASM-RCPT", 1_000))
	wantHandedOver(t, "LBY RequestAssistance", err, "RECEPTION")
	_, err = b.client.RecordDeparture(m.lby, departure(r))
	wantHandedOver(t, "LBY RecordDeparture", err, "RECEPTION")
	_, err = b.client.RecordArrival(m.lby, arrival(r))
	wantHandedOver(t, "LBY RecordArrival", err, "RECEPTION")
	_, err = b.client.CloseRequest(m.lby, closing(r, hasmv1.ClosureReason_CLOSURE_REASON_OTHER))
	wantHandedOver(t, "LBY CloseRequest", err, "RECEPTION")

	// Libya reads none of Niger's request; Mali nothing of the case.
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"LBY GetRequest", func() error {
			_, err := b.client.GetRequest(m.lby, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
			return err
		}},
		{"MLI GetRequest", func() error {
			_, err := b.client.GetRequest(m.mli, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
			return err
		}},
		{"MLI RequestAssistance", func() error {
			_, err := b.client.RequestAssistance(m.mli, assistance(c.GetCaseId(), "HASM-RCPT", 1_000))
			return err
		}},
		{"MLI RecordDeparture", func() error {
			_, err := b.client.RecordDeparture(m.mli, departure(r))
			return err
		}},
		{"MLI CloseRequest", func() error {
			_, err := b.client.CloseRequest(m.mli, closing(r, hasmv1.ClosureReason_CLOSURE_REASON_OTHER))
			return err
		}},
	} {
		if err := tt.call(); status.Code(err) != codes.NotFound {
			t.Errorf("%s: got %v, want NOT_FOUND", tt.name, err)
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused calls wrote (-before +after):\n%s", diff)
	}
	_, err = b.client.GetRequest(m.lby, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId(), Mission: "NER"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	list, err := b.client.ListRequests(m.lby, &hasmv1.ListRequestsRequest{})
	if err != nil || len(list.GetRequests()) != 0 {
		t.Errorf("LBY ListRequests = %v, %v; want none", list.GetRequests(), err)
	}

	// Under Libya's declaration the database itself holds Niger's request back; Libya sees the
	// grant (it must know it no longer holds the part), Mali neither.
	for _, tt := range []struct {
		mission, sql string
		want         int
	}{
		{"LBY", `SELECT count(*) FROM hasm.request WHERE case_id = $1`, 0},
		{"NER", `SELECT count(*) FROM hasm.request WHERE case_id = $1`, 1},
		{"MLI", `SELECT count(*) FROM hasm.request WHERE case_id = $1`, 0},
		{"LBY", `SELECT count(*) FROM hasm.part WHERE case_id = $1`, 1},
		{"NER", `SELECT count(*) FROM hasm.part WHERE case_id = $1`, 1},
		{"MLI", `SELECT count(*) FROM hasm.part WHERE case_id = $1`, 0},
		{"NER", `SELECT count(*) FROM hasm."case" WHERE case_id = $1`, 1},
		{"NER", `SELECT count(*) FROM hasm.case_member WHERE case_id = $1`, 1},
		{"MLI", `SELECT count(*) FROM hasm."case" WHERE case_id = $1`, 0},
		{"MLI", `SELECT count(*) FROM hasm.case_member WHERE case_id = $1`, 0},
	} {
		if got := b.visible(t, tt.mission, tt.sql, c.GetCaseId()); got != tt.want {
			t.Errorf("%s: %s = %d, want %d", tt.mission, tt.sql, got, tt.want)
		}
	}

	// HQ decides Niger's request, named by its mission; the case's own mission made none.
	_, err = b.client.GetRequest(b.hq, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	decided, err := b.client.DecideRequest(b.hq, decideFor(r))
	if err != nil {
		t.Fatalf("HQ DecideRequest: %v", err)
	}
	r = decided.GetRequest()
	if r.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_APPROVED || decided.GetFund().GetCommitted() != 40_000 {
		t.Errorf("decision = %v, fund committed %d; want APPROVED, 40000 charged", r.GetStatus(), decided.GetFund().GetCommitted())
	}

	// Niger's departure: a stale version is refused, a retry replays.
	dep := departure(r)
	dep.ReturnCountry = "NER"
	stale := proto.Clone(dep).(*hasmv1.RecordDepartureRequest)
	stale.RequestId, stale.Version = uuid.NewString(), r.GetVersion()-1
	_, err = b.client.RecordDeparture(m.ner, stale)
	testserver.WantCode(t, err, codes.FailedPrecondition)
	departed, err := b.client.RecordDeparture(m.ner, dep)
	if err != nil {
		t.Fatalf("NER RecordDeparture: %v", err)
	}
	replayed, err := b.client.RecordDeparture(m.ner, dep)
	if err != nil || !proto.Equal(replayed.GetRequest(), departed.GetRequest()) {
		t.Errorf("retried RecordDeparture = %v, %v; want the first result", replayed.GetRequest(), err)
	}
	arrived, err := b.client.RecordArrival(m.ner, arrival(departed.GetRequest()))
	if err != nil {
		t.Fatalf("NER RecordArrival: %v", err)
	}
	if got := arrived.GetRequest(); got.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED || got.GetVersion() != 4 {
		t.Errorf("arrival = %v at version %d; want ARRIVED at 4", got.GetStatus(), got.GetVersion())
	}
	got, err := b.client.GetRequest(m.ner, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
	if err != nil || !proto.Equal(got.GetRequest(), arrived.GetRequest()) {
		t.Errorf("NER GetRequest = %v, %v; want the arrived request", got.GetRequest(), err)
	}

	// Every event of Niger's request is recorded under Niger.
	var types []string
	for _, e := range b.env.AggregateEvents(t, "hasm", c.GetCaseId()) {
		if e.Mission != "NER" {
			t.Errorf("%s recorded under %s, want NER", e.Type, e.Mission)
		}
		types = append(types, e.Type)
	}
	want := []string{"passage.hasm.v1.AssistanceRequested", "passage.hasm.v1.RequestDecided",
		"passage.common.v1.DepartureRecorded", "passage.hasm.v1.ArrivalRecorded"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestReceptionKeepsTheHostsRequest: a request Libya made before handing over the case's
// RECEPTION stays Libya's (its return from the host country), beside Niger's own; neither
// mission reads the other's, HQ reads both by mission.
func TestReceptionKeepsTheHostsRequest(t *testing.T) {
	t.Parallel()
	b, m, c := libya(t, "HASM-BOTH")
	approved, err := b.client.DecideRequest(b.hq, approval(b.request(t, m.lby, c.GetCaseId(), "HASM-BOTH", 70_000)))
	if err != nil {
		t.Fatalf("HQ DecideRequest (the case's own mission's): %v", err)
	}
	b.handOver(t, c.GetCaseId(), receptionPart)
	if err := b.svc.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}

	_, err = b.client.RequestAssistance(m.lby, assistance(c.GetCaseId(), "HASM-BOTH", 1_000))
	wantHandedOver(t, "LBY's second RequestAssistance", err, "RECEPTION")
	dep := departure(approved.GetRequest())
	dep.ReturnCountry = "NER"
	lby, err := b.client.RecordDeparture(m.lby, dep)
	if err != nil {
		t.Fatalf("LBY RecordDeparture of its own request: %v", err)
	}
	ner := b.request(t, m.ner, c.GetCaseId(), "HASM-BOTH", 30_000)

	for _, tt := range []struct {
		ctx     context.Context
		mission string
		want    *hasmv1.AssistanceRequest
	}{
		{m.lby, "", lby.GetRequest()},
		{m.ner, "", ner},
		{b.hq, "", lby.GetRequest()},
		{b.hq, "LBY", lby.GetRequest()},
		{b.hq, "NER", ner},
	} {
		got, err := b.client.GetRequest(tt.ctx, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId(), Mission: tt.mission})
		if err != nil {
			t.Errorf("GetRequest(%q): %v", tt.mission, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.GetRequest(), protocmp.Transform()); diff != "" {
			t.Errorf("GetRequest(%q) (-want +got):\n%s", tt.mission, diff)
		}
	}
	if n := b.visible(t, "LBY", `SELECT count(*) FROM hasm.request WHERE case_id = $1 AND mission = 'NER'`, c.GetCaseId()); n != 0 {
		t.Errorf("LBY sees %d of NER's requests", n)
	}
	if n := b.visible(t, "NER", `SELECT count(*) FROM hasm.request WHERE case_id = $1 AND mission = 'LBY'`, c.GetCaseId()); n != 0 {
		t.Errorf("NER sees %d of LBY's requests", n)
	}
	// HQ's decision on Niger's request leaves Libya's as it was; both amounts are charged.
	decided, err := b.client.DecideRequest(b.hq, decideFor(ner))
	if err != nil {
		t.Fatalf("HQ DecideRequest (NER's): %v", err)
	}
	if decided.GetFund().GetCommitted() != 100_000 {
		t.Errorf("committed = %d, want 100000 (70000 LBY + 30000 NER)", decided.GetFund().GetCommitted())
	}
	still, err := b.client.GetRequest(m.lby, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
	if err != nil || !proto.Equal(still.GetRequest(), lby.GetRequest()) {
		t.Errorf("LBY's request after HQ decided NER's = %v, %v", still.GetRequest(), err)
	}
}

// TestTransfer: the whole case moves to Niger; Libya is refused every step, its own earlier
// request's too; Niger requests, HQ approves and Niger closes, giving the amount back.
func TestTransfer(t *testing.T) {
	t.Parallel()
	b, m, c := libya(t, "HASM-MOVE")
	lby := b.request(t, m.lby, c.GetCaseId(), "HASM-MOVE", 5_000)
	b.handOver(t, c.GetCaseId(), transferPart)

	r := b.request(t, m.ner, c.GetCaseId(), "HASM-MOVE", 20_000)
	before := b.stored(t)
	_, err := b.client.CloseRequest(m.lby, closing(lby, hasmv1.ClosureReason_CLOSURE_REASON_CANCELLED))
	wantHandedOver(t, "LBY closing its own request", err, "TRANSFER")
	_, err = b.client.RequestAssistance(m.lby, assistance(c.GetCaseId(), "HASM-MOVE", 1_000))
	wantHandedOver(t, "LBY RequestAssistance", err, "RECEPTION")
	if _, err := b.client.DecideRequest(b.hq, decideFor(r)); err != nil {
		t.Fatalf("HQ DecideRequest: %v", err)
	}
	if diff := cmp.Diff(before["committed"]+20_000, b.stored(t)["committed"]); diff != "" {
		t.Errorf("committed after the approval (-want +got):\n%s", diff)
	}
	approved, err := b.client.GetRequest(m.ner, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	closeReq := closing(approved.GetRequest(), hasmv1.ClosureReason_CLOSURE_REASON_WITHDRAWN)
	closed, err := b.client.CloseRequest(m.ner, closeReq)
	if err != nil {
		t.Fatalf("NER CloseRequest: %v", err)
	}
	if closed.GetRequest().GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_CLOSED {
		t.Errorf("status = %v, want CLOSED", closed.GetRequest().GetStatus())
	}
	if again, err := b.client.CloseRequest(m.ner, closeReq); err != nil || !proto.Equal(again.GetRequest(), closed.GetRequest()) {
		t.Errorf("retried CloseRequest = %v, %v; want the first result", again.GetRequest(), err)
	}
	if got := b.stored(t)["committed"]; got != before["committed"] {
		t.Errorf("committed after the closure = %d, want %d (the amount given back)", got, before["committed"])
	}
	// Libya's own request stands as it was, unseen by Niger.
	if n := b.visible(t, "NER", `SELECT count(*) FROM hasm.request WHERE case_id = $1`, c.GetCaseId()); n != 1 {
		t.Errorf("NER sees %d requests of the case, want its own only", n)
	}
	if got, want := b.env.QueryText(t, `SELECT status FROM hasm.request WHERE case_id = $1 AND mission = 'LBY'`, c.GetCaseId()), "REQUESTED"; got != want {
		t.Errorf("LBY's request is %s, want %s", got, want)
	}
}
