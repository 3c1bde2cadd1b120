package hasm

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/projectiontest"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestGrantsProjected: the consumer's handlers, the batch's and the one-at-a-time one alike,
// write the HASM acceptances into hasm.part and intake's HASM cases into the projection, each
// passing over the other's events and over acceptances of other programmes.
func TestGrantsProjected(t *testing.T) {
	t.Parallel()
	caseID := uuid.NewString()
	// As the consumer reads them: intake's event under the case's mission, each acceptance
	// under its receiving mission.
	events := []outbox.Event{
		{Mission: "LBY", Payload: &intakev1.CaseRegistered{Case: stranded(caseID, "LBY", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)}},
		{Mission: "NER", Payload: &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: caseID, FromMission: "LBY", ToMission: "NER",
			Programme: commonv1.Programme_PROGRAMME_HASM, Parts: []handoverv1.HandoverPart{reception}}},
		{Mission: "IRQ", Payload: &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: uuid.NewString(), FromMission: "DEU", ToMission: "IRQ",
			Programme: commonv1.Programme_PROGRAMME_AVRR, Parts: []handoverv1.HandoverPart{transfer}}},
	}
	records := make([]outbox.Record, len(events))
	for i, e := range events {
		payload, err := proto.Marshal(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		records[i] = outbox.Record{Type: string(proto.MessageName(e.Payload)), Mission: e.Mission, Payload: payload, OccurredAt: time.Now()}
	}
	type grant struct{ Case, Mission, From, Programme, Parts string }
	for name, apply := range map[string]func(context.Context, pgx.Tx) error{
		"batched": func(ctx context.Context, tx pgx.Tx) error { return applyEvents(ctx, tx, records) },
		"one at a time": func(ctx context.Context, tx pgx.Tx) error {
			for _, r := range records {
				if err := applyEvent(ctx, tx, r); err != nil {
					return err
				}
			}
			return nil
		},
	} {
		d := projectiontest.New(t, Role)
		if err := pgx.BeginFunc(context.Background(), d.Pool, func(tx pgx.Tx) error { return apply(context.Background(), tx) }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := projectiontest.Collect[grant](t, d, `SELECT case_id::text, mission, from_mission, programme, array_to_string(parts, ',') FROM hasm.part`)
		if diff := cmp.Diff([]grant{{caseID, "NER", "LBY", "HASM", "RECEPTION"}}, got); diff != "" {
			t.Errorf("%s: grants (-want +got):\n%s", name, diff)
		}
		if cases := d.Rows(t, `SELECT mission FROM hasm."case"`); !cmp.Equal(cases, []string{"LBY"}) {
			t.Errorf("%s: cases %v, want the one registered in LBY", name, cases)
		}
	}
}
