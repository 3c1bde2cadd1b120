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
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(e.Payload)
	if err != nil {
		return fmt.Errorf("outbox: marshal %s: %w", e.Payload.ProtoReflect().Descriptor().FullName(), err)
	}
	st.Add("outbox_event", `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload)
VALUES (`+st.Arg(e.Producer)+`, `+st.Arg(string(e.Payload.ProtoReflect().Descriptor().FullName()))+`, `+
		st.Arg(e.AggregateID)+`, `+st.Arg(e.Mission)+`, `+st.Arg(payload)+`)`)
	return nil
}
