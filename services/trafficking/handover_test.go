package trafficking_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/trafficking"
)

var (
	continuing = handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE
	transfer   = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// accept records, as the hand-over service does when MMR accepts, that THA's victim case c
// is handed over to mission to in parts: a HandoverAccepted event in the outbox, written by the
// hand-over service's role under the receiving mission.
func (b *bundle) accept(t *testing.T, c *traffickingv1.VictimCase, to string, parts ...handoverv1.HandoverPart) {
	t.Helper()
	e := &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: c.GetCaseId(), FromMission: c.GetMission(),
		ToMission: to, Programme: commonv1.Programme_PROGRAMME_VOT, Parts: parts, ProfileVersion: 1, Version: 2}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: "handover", AggregateID: uuid.MustParse(e.CaseId), Mission: to, Payload: e}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err := database.NewDB(b.env.Pool(t, "passage_handover")).MissionTx(ctx, to, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		st.Queue(batch)
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		t.Fatalf("write HandoverAccepted: %v", err)
	}
}

// wantPartRefused checks that err refuses a step of part, held by mission, for reason.
func wantPartRefused(t *testing.T, step string, err error, reason, part, mission string) {
	t.Helper()
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("%s: %v, want FAILED_PRECONDITION", step, err)
		return
	}
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			want := map[string]string{"part": part, "mission": mission}
			if info.GetReason() != reason || !cmp.Equal(want, info.GetMetadata()) {
				t.Errorf("%s: reason %s %v, want %s %v", step, info.GetReason(), info.GetMetadata(), reason, want)
			}
			return
		}
	}
	t.Errorf("%s: no ErrorInfo in %v", step, err)
}

// assistanceRows counts the assistance records of a case a transaction declared for mission
// sees, read directly as the trafficking role: what row-level security alone lets through.
func assistanceRows(t *testing.T, b *bundle, mission, caseID string) (all, byMMR int) {
	t.Helper()
	q := database.NewDB(b.env.Pool(t, trafficking.Role)).Mission(mission)
	if err := q.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE mission = 'MMR')
FROM trafficking.assistance WHERE case_id = $1`, caseID).Scan(&all, &byMMR); err != nil {
		t.Fatal(err)
	}
	return all, byMMR
}

// TestContinuingAssistanceAtOrigin tells a victim's case from Thailand to Myanmar: THA
// identifies and shelters the victim, then hands the case's continuing assistance over to
// MMR, which records its assistance and closes the case. THA keeps identification's steps and
// is refused MMR's; it sees the outcome, never MMR's assistance; a third mission sees nothing.
//
// It runs without the background consumer: MMR's first request after the acceptance finds
// the case only because the service catches up on the consumer's events before it answers
// NOT_FOUND.
func TestContinuingAssistanceAtOrigin(t *testing.T) {
	t.Parallel()
	b := setupWith(t, false)
	mmr := b.env.As(t, auth.RoleCaseworker, "MMR")
	third := b.other // DEU
	c := b.newVictim(t, identified)
	c, err := facts[1].call(b, b.worker, c) // THA's shelter: medical assistance
	if err != nil {
		t.Fatal(err)
	}
	shelter := c.GetAssistance()[0].GetAssistanceId()
	b.accept(t, c, "MMR", continuing)

	got, err := b.vot.GetVictimCase(mmr, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatalf("MMR's first read after the acceptance: %v", err)
	}
	atOrigin := got.GetVictimCase()
	wantParts := []*traffickingv1.CasePart{{Part: continuing, Mission: "MMR"}}
	if diff := cmp.Diff(wantParts, atOrigin.GetParts(), protocmp.Transform()); diff != "" {
		t.Errorf("MMR reads the parts (-want +got):\n%s", diff)
	}
	if atOrigin.GetMission() != "THA" || atOrigin.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_IDENTIFIED_VICTIM ||
		len(atOrigin.GetAssistance()) != 0 {
		t.Errorf("MMR reads mission %s, status %v, %d assistance records; want THA's identified victim without THA's assistance",
			atOrigin.GetMission(), atOrigin.GetStatus(), len(atOrigin.GetAssistance()))
	}

	// THA is refused the steps of the part it handed over, and writes nothing.
	before := b.stored(t)
	c = b.get(t, c.GetCaseId())
	for _, f := range []fact{facts[1], closing(traffickingv1.ClosureReason_CLOSURE_REASON_RETURNED)} {
		_, err := f.call(b, b.worker, c)
		wantPartRefused(t, "THA "+f.name, err, "PART_HANDED_OVER", "CONTINUING_ASSISTANCE", "MMR")
	}
	// MMR is refused identification's steps, which stay with THA.
	for _, f := range append([]fact{facts[0], facts[2], facts[3]}, screening(identified)) {
		_, err := f.call(b, mmr, atOrigin)
		wantPartRefused(t, "MMR "+f.name, err, "PART_NOT_HELD", "TRANSFER", "THA")
	}
	// A third mission finds nothing.
	_, err = b.vot.GetVictimCase(third, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	for _, f := range append(facts, closing(traffickingv1.ClosureReason_CLOSURE_REASON_OTHER)) {
		_, err := f.call(b, third, c)
		testserver.WantCode(t, err, codes.NotFound)
	}
	if list, err := b.vot.ListVictimCases(third, &traffickingv1.ListVictimCasesRequest{}); err != nil || len(list.GetVictimCases()) != 0 {
		t.Errorf("DEU lists %d victim cases (%v), want 0", len(list.GetVictimCases()), err)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused steps changed the database (-before +after):\n%s", diff)
	}

	// THA keeps identification's steps: it assesses the risk before return.
	c, err = facts[3].call(b, b.worker, c)
	if err != nil {
		t.Fatalf("THA AssessRisk after the hand-over: %v", err)
	}
	atOrigin.Version = c.GetVersion()

	// MMR records its assistance: once for a retried request, a stale version refused.
	req := &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: atOrigin.GetVersion(),
		Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL, StartDate: day(2026, 3, 13), Provider: "NGO-YGN"}
	first, err := b.vot.RecordAssistance(mmr, req)
	if err != nil {
		t.Fatalf("MMR RecordAssistance: %v", err)
	}
	retry, err := b.vot.RecordAssistance(mmr, proto.CloneOf(req))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, retry, protocmp.Transform()); diff != "" {
		t.Errorf("a retry returned another result (-first +retry):\n%s", diff)
	}
	atOrigin = first.GetVictimCase()
	if atOrigin.GetVersion() != c.GetVersion()+1 || len(atOrigin.GetAssistance()) != 1 ||
		atOrigin.GetAssistance()[0].GetProvider() != "NGO-YGN" {
		t.Errorf("after MMR's assistance: v%d (want v%d), assistance %v", atOrigin.GetVersion(), c.GetVersion()+1, atOrigin.GetAssistance())
	}
	stale := proto.CloneOf(req)
	stale.RequestId = uuid.NewString()
	_, err = b.vot.RecordAssistance(mmr, stale)
	testserver.WantCode(t, err, codes.FailedPrecondition)
	if errorReason(err) != "STALE_VERSION" {
		t.Errorf("MMR's stale version: reason %q", errorReason(err))
	}
	mine := atOrigin.GetAssistance()[0].GetAssistanceId()

	// Each mission ends its own records, and does not find the other's.
	_, err = b.vot.EndAssistance(mmr, &traffickingv1.EndAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: atOrigin.GetVersion(), AssistanceId: shelter, EndDate: day(2026, 3, 13)})
	testserver.WantCode(t, err, codes.NotFound)
	ended, err := b.vot.EndAssistance(b.worker, &traffickingv1.EndAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: atOrigin.GetVersion(), AssistanceId: shelter, EndDate: day(2026, 3, 12)})
	if err != nil {
		t.Fatalf("THA ends its shelter: %v", err)
	}
	if a := ended.GetVictimCase().GetAssistance(); len(a) != 1 || a[0].GetAssistanceId() != shelter {
		t.Errorf("THA's response shows assistance %v, want its shelter alone", a)
	}
	ended, err = b.vot.EndAssistance(mmr, &traffickingv1.EndAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: ended.GetVictimCase().GetVersion(), AssistanceId: mine, EndDate: day(2026, 3, 14)})
	if err != nil {
		t.Fatalf("MMR ends its assistance: %v", err)
	}

	// THA sees neither MMR's assistance nor its events: through the API and in the database.
	tha := b.get(t, c.GetCaseId())
	if len(tha.GetAssistance()) != 1 || tha.GetAssistance()[0].GetAssistanceId() != shelter {
		t.Errorf("THA reads assistance %v, want its shelter alone", tha.GetAssistance())
	}
	if diff := cmp.Diff(wantParts, tha.GetParts(), protocmp.Transform()); diff != "" {
		t.Errorf("THA reads the parts (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		mission         string
		wantAll, wantMM int
	}{{"THA", 1, 0}, {"MMR", 1, 1}, {"DEU", 0, 0}} {
		if all, byMMR := assistanceRows(t, b, tt.mission, c.GetCaseId()); all != tt.wantAll || byMMR != tt.wantMM {
			t.Errorf("a transaction declared for %s sees %d assistance records (%d of MMR's), want %d (%d)",
				tt.mission, all, byMMR, tt.wantAll, tt.wantMM)
		}
	}

	// MMR closes the case; THA sees the outcome.
	closed, err := b.vot.CloseVictimCase(mmr, &traffickingv1.CloseVictimCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: ended.GetVictimCase().GetVersion(), Reason: traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED})
	if err != nil {
		t.Fatalf("MMR closes the case: %v", err)
	}
	tha = b.get(t, c.GetCaseId())
	if tha.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED ||
		tha.GetClosureReason() != traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED ||
		tha.GetVersion() != closed.GetVictimCase().GetVersion() {
		t.Errorf("THA reads %v (%v) v%d after MMR's closure", tha.GetStatus(), tha.GetClosureReason(), tha.GetVersion())
	}

	// Each mission's steps are written under its own mission: events and audit records.
	missions := map[string][]string{}
	for _, e := range b.env.AggregateEvents(t, "trafficking", c.GetCaseId()) {
		missions[e.Mission] = append(missions[e.Mission], e.Type)
	}
	provided, closedEvent := string(proto.MessageName(&traffickingv1.AssistanceProvided{})), string(proto.MessageName(&traffickingv1.VictimCaseClosed{}))
	wantEvents := map[string][]string{
		"THA": {string(proto.MessageName(&traffickingv1.VictimScreened{})), provided, string(proto.MessageName(&traffickingv1.RiskAssessed{})), provided},
		"MMR": {provided, provided, closedEvent},
	}
	if diff := cmp.Diff(wantEvents, missions); diff != "" {
		t.Errorf("events by mission (-want +got):\n%s", diff)
	}
	for _, r := range b.env.AuditRecords(t, traffickingv1.TraffickingService_CloseVictimCase_FullMethodName) {
		if r.Mission != "MMR" || r.CallerMission != "MMR" {
			t.Errorf("CloseVictimCase audited under %s (caller %s), want MMR", r.Mission, r.CallerMission)
		}
	}

	// Both list the case; MMR by its part.
	for _, who := range []context.Context{b.worker, mmr} {
		list, err := b.vot.ListVictimCases(who, &traffickingv1.ListVictimCasesRequest{
			Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED})
		if err != nil || len(list.GetVictimCases()) != 1 || list.GetVictimCases()[0].GetCaseId() != c.GetCaseId() {
			t.Errorf("list of closed cases = %v, %v; want the case", list, err)
		}
	}
}

// TestTransferGivesEveryStep: a case handed over whole (TRANSFER) is worked by the receiving
// mission from screening to closure; the identifying mission is refused every step but ending
// its own assistance records. MMR's first request after the acceptance is a change, which
// finds the case by catching up on the consumer's events.
func TestTransferGivesEveryStep(t *testing.T) {
	t.Parallel()
	b := setupWith(t, false)
	mmr := b.env.As(t, auth.RoleCaseworker, "MMR")
	c := b.newVictim(t, unscreened)
	b.accept(t, c, "MMR", transfer)

	steps := append([]fact{screening(presumed)}, facts...)
	steps = append(steps, closing(traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED))
	for _, f := range steps {
		next, err := f.call(b, mmr, c)
		if err != nil {
			t.Fatalf("MMR %s: %v", f.name, err)
		}
		if next.GetVersion() != c.GetVersion()+1 {
			t.Errorf("MMR %s: v%d, want v%d", f.name, next.GetVersion(), c.GetVersion()+1)
		}
		c = next
		part := "TRANSFER"
		if f.name == "assistance" || f.name == steps[len(steps)-1].name {
			part = "CONTINUING_ASSISTANCE"
		}
		_, err = f.call(b, b.worker, c)
		wantPartRefused(t, "THA "+f.name, err, "PART_HANDED_OVER", part, "MMR")
	}
	got := b.get(t, c.GetCaseId())
	if got.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED || got.GetExploitation() == nil ||
		got.GetVersion() != c.GetVersion() || len(got.GetAssistance()) != 0 {
		t.Errorf("THA reads %v v%d, exploitation %v, %d assistance records; want MMR's closed case without its assistance",
			got.GetStatus(), got.GetVersion(), got.GetExploitation(), len(got.GetAssistance()))
	}
	want := []*traffickingv1.CasePart{{Part: continuing, Mission: "MMR"}, {Part: transfer, Mission: "MMR"}}
	if diff := cmp.Diff(want, got.GetParts(), protocmp.Transform()); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

// TestPartRowSecurity: a grant is seen by the sending and the receiving mission alone, written
// only under the receiving mission's declaration, and never changed or removed; the database
// shows the victim case to a part holder and to no third mission.
func TestPartRowSecurity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newVictim(t, identified)
	b.accept(t, c, "MMR", continuing)
	if _, err := b.vot.GetVictimCase(b.env.As(t, auth.RoleCaseworker, "MMR"), &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()}); err != nil {
		t.Fatalf("MMR reads the case: %v", err)
	}
	ctx := context.Background()
	db := database.NewDB(b.env.Pool(t, trafficking.Role))
	for _, tt := range []struct {
		mission         string
		grants, visible int
	}{{"THA", 1, 1}, {"MMR", 1, 1}, {"DEU", 0, 0}} {
		var grants, cases int
		if err := db.Mission(tt.mission).QueryRow(ctx, `SELECT (SELECT count(*) FROM trafficking.part WHERE case_id = $1),
  (SELECT count(*) FROM trafficking.victim_case WHERE case_id = $1)`, c.GetCaseId()).Scan(&grants, &cases); err != nil {
			t.Fatal(err)
		}
		if grants != tt.grants || cases != tt.visible {
			t.Errorf("%s sees %d grants and %d cases, want %d and %d", tt.mission, grants, cases, tt.grants, tt.visible)
		}
	}
	forged := `INSERT INTO trafficking.part (handover_id, case_id, mission, from_mission, programme, parts, accepted_at)
VALUES (gen_random_uuid(), '` + c.GetCaseId() + `', 'DEU', 'THA', 'VOT', '{TRANSFER}', now())`
	checkGrant(t, ctx, "THA writes a grant to DEU", db.Mission("THA"), forged, false)
	checkGrant(t, ctx, "MMR changes a grant", db.Mission("MMR"), `UPDATE trafficking.part SET mission = 'DEU'`, false)
	checkGrant(t, ctx, "MMR removes a grant", db.Mission("MMR"), `DELETE FROM trafficking.part`, false)
	tag, err := db.Mission("DEU").Exec(ctx, `UPDATE trafficking.victim_case SET version = version + 1 WHERE case_id = $1`, c.GetCaseId())
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("DEU updates the case: %v rows, %v; want none", tag.RowsAffected(), err)
	}
}
