package outbox

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
)

// Event is one change to record.
type Event struct {
	// Producer is the service that made the change, e.g. "intake".
	Producer string
	// AggregateID is the entity that changed (a case id).
	AggregateID uuid.UUID
	// Mission owns the entity.
	Mission string
	// Payload is the event message; its full name is the event type
	// ("passage.intake.v1.CaseRegistered").
	Payload proto.Message
}

// Queue adds the event's insert to b, so it commits or rolls back with the change it records.
func Queue(b *pgx.Batch, e Event) error {
	var st database.Statement
	if err := Add(&st, e); err != nil {
		return err
	}
	st.Queue(b)
	return nil
}

// Add adds the event's insert to st as its part "outbox_event", so it commits or rolls back
// with the change it records.
func Add(st *database.Statement, e Event) error {
	return AddAll(st, []Event{e})
}

// AddAll adds the inserts of several events to st as its one part "outbox_event" (a group
// commit's). The events take their ids in the order given, which is the order consumers read
// them in within the transaction.
func AddAll(st *database.Statement, events []Event) error {
	n := len(events)
	producers, types, aggregates := make([]string, n), make([]string, n), make([]uuid.UUID, n)
	missions, payloads := make([]string, n), make([][]byte, n)
	for i, e := range events {
		name := e.Payload.ProtoReflect().Descriptor().FullName()
		payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(e.Payload)
		if err != nil {
			return fmt.Errorf("outbox: marshal %s: %w", name, err)
		}
		producers[i], types[i], aggregates[i], missions[i], payloads[i] = e.Producer, string(name), e.AggregateID, e.Mission, payload
	}
	st.Add("outbox_event", `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload)
SELECT p, t, a, m, b FROM unnest(`+st.Arg(producers)+`::text[], `+st.Arg(types)+`::text[], `+st.Arg(aggregates)+`::uuid[], `+
		st.Arg(missions)+`::text[], `+st.Arg(payloads)+`::bytea[]) WITH ORDINALITY AS e(p, t, a, m, b, n)
ORDER BY n`)
	return nil
}
