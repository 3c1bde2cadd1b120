package outbox

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
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

const insert = `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload)
VALUES ($1, $2, $3, $4, $5)`

// Queue adds the event's insert to b, so it commits or rolls back with the change it records.
func Queue(b *pgx.Batch, e Event) error {
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(e.Payload)
	if err != nil {
		return fmt.Errorf("outbox: marshal %s: %w", e.Payload.ProtoReflect().Descriptor().FullName(), err)
	}
	b.Queue(insert, e.Producer, string(e.Payload.ProtoReflect().Descriptor().FullName()),
		e.AggregateID, e.Mission, payload)
	return nil
}
