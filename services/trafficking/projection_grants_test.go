package trafficking

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/projectiontest"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// emitAcceptances records hand-over acceptances in the outbox as the hand-over service does,
// each under its receiving mission, in one transaction.
func emitAcceptances(t *testing.T, d *projectiontest.DB, events ...*handoverv1.HandoverAccepted) {
	t.Helper()
	out := make([]outbox.Event, len(events))
	for i, e := range events {
		out[i] = outbox.Event{Producer: "handover", AggregateID: uuid.MustParse(e.GetCaseId()), Mission: e.GetToMission(), Payload: e}
	}
	var st database.Statement
	if err := outbox.Add(&st, out); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := pgx.BeginFunc(context.Background(), d.Owner, func(tx pgx.Tx) error {
		return tx.SendBatch(context.Background(), b).Close()
	}); err != nil {
		t.Fatal(err)
	}
}

// TestGrantsProjected: the consumer of intake's events writes the acceptances of VoT
// hand-overs into trafficking.part, batched and one event at a time alike, and passes over the
// acceptances of other programmes; intake's events of the same drains still project.
func TestGrantsProjected(t *testing.T) {
	t.Parallel()
	caseID := uuid.NewString()
	vot := &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: caseID, FromMission: "THA", ToMission: "MMR",
		Programme: commonv1.Programme_PROGRAMME_VOT, Parts: []handoverv1.HandoverPart{continuingAssistance}}
	avrr := &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: uuid.NewString(), FromMission: "DEU", ToMission: "IRQ",
		Programme: commonv1.Programme_PROGRAMME_AVRR, Parts: []handoverv1.HandoverPart{transfer}}
	type grant struct{ Case, Mission, From, Programme string }
	for _, batched := range []bool{true, false} {
		d := projectiontest.New(t, Role)
		d.Emit(t, registered(victim(caseID, "THA", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)))
		emitAcceptances(t, d, vot, avrr)
		cfg := consumerConfig()
		if !batched {
			cfg.HandleBatch = nil
		}
		if n, err := projectiontest.Drain(t, outbox.NewConsumer(d.Pool, cfg), 3); err != nil || n != 3 {
			t.Fatalf("batched %v: drain = %d, %v; want 3 applied", batched, n, err)
		}
		got := projectiontest.Collect[grant](t, d, `SELECT case_id::text, mission, from_mission, programme FROM trafficking.part`)
		if diff := cmp.Diff([]grant{{caseID, "MMR", "THA", "VOT"}}, got); diff != "" {
			t.Errorf("batched %v: grants (-want +got):\n%s", batched, diff)
		}
		if cases := victimCases(t, d); len(cases) != 1 || cases[0].CaseID != caseID {
			t.Errorf("batched %v: victim cases %v, want the one registered", batched, cases)
		}
	}
}
