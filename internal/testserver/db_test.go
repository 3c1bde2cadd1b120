package testserver_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/testserver"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestReadBack writes outbox events as the owner and reads them back through the helpers.
func TestReadBack(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{})
	first, second := uuid.New(), uuid.New()
	events := []outbox.Event{
		{Producer: "intake", AggregateID: first, Mission: "NER", Payload: &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: first.String()}}},
		{Producer: "intake", AggregateID: second, Mission: "DEU", Payload: &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: second.String()}}},
		{Producer: "intake", AggregateID: first, Mission: "NER", Payload: &intakev1.CaseClosed{Case: &intakev1.Case{CaseId: first.String()}}},
		{Producer: "returns", AggregateID: first, Mission: "NER", Payload: &intakev1.CaseUpdated{ChangedFields: []string{"x"}}},
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var st database.Statement
	if err := outbox.Add(&st, events); err != nil {
		t.Fatal(err)
	}
	var b pgx.Batch
	st.Queue(&b)
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		t.Fatal(err)
	}

	if got := env.Count(t, "outbox.event"); got != 4 {
		t.Errorf("Count(outbox.event) = %d, want 4", got)
	}
	if got := env.Count(t, "outbox.event WHERE mission = 'DEU'"); got != 1 {
		t.Errorf("Count(DEU events) = %d, want 1", got)
	}
	if got := env.QueryInt(t, "SELECT count(DISTINCT aggregate_id) FROM outbox.event WHERE producer = $1", "intake"); got != 2 {
		t.Errorf("QueryInt(intake aggregates) = %d, want 2", got)
	}
	wantCounts := map[string]int{"outbox.event": 4, `intake."case"`: 0}
	if diff := cmp.Diff(wantCounts, env.RowCounts(t, "outbox.event", `intake."case"`)); diff != "" {
		t.Errorf("RowCounts (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		got  []testserver.Event
		want []testserver.Event
	}{
		{"Events of intake", env.Events(t, "intake"), []testserver.Event{
			{Type: "passage.intake.v1.CaseRegistered", Mission: "NER", Payload: events[0].Payload},
			{Type: "passage.intake.v1.CaseRegistered", Mission: "DEU", Payload: events[1].Payload},
			{Type: "passage.intake.v1.CaseClosed", Mission: "NER", Payload: events[2].Payload},
		}},
		{"AggregateEvents of intake's first case", env.AggregateEvents(t, "intake", first.String()), []testserver.Event{
			{Type: "passage.intake.v1.CaseRegistered", Mission: "NER", Payload: events[0].Payload},
			{Type: "passage.intake.v1.CaseClosed", Mission: "NER", Payload: events[2].Payload},
		}},
		{"Events of a producer that wrote none", env.Events(t, "hasm"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	want := []proto.Message{events[0].Payload, events[2].Payload}
	if diff := cmp.Diff(want, testserver.Payloads(env.AggregateEvents(t, "intake", first.String())), protocmp.Transform()); diff != "" {
		t.Errorf("Payloads (-want +got):\n%s", diff)
	}
}
