package outbox

import (
	"fmt"

	"github.com/google/uuid"
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

// Add adds the inserts of events to st as its part "outbox_event", so that they commit or
// roll back with the change they record; one event is a slice of one. It is the outbox's one
// way in: a statement holds one such part, so every event of a statement goes in one call (a
// group commit's, say). The events take their ids in the order given, which is the order
// consumers read them in within the transaction. Where a batch carries the change, the
// statement is queued on it (database.Statement.Queue).
func Add(st *database.Statement, events []Event) error {
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
