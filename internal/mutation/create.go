package mutation

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
)

// Creator writes, once per service, the creation of a new aggregate (Create). Every field is
// required.
type Creator struct {
	DB       *database.DB
	Idem     *idempotency.Store
	Producer string
}

// New is one creation: who creates the aggregate under which idempotency key, its id and
// owning mission, and the response, filled before Create is called: it is the first result.
type New struct {
	Who     auth.Claims
	Key     idempotency.Key
	ID      uuid.UUID
	Mission string
	Resp    proto.Message
	// Applied, when set, is set by Create to whether this call's own write committed (as
	// Mutation.Applied).
	Applied *bool
}

// Write queues a new aggregate's rows on b and returns its outbox event.
type Write func(b *pgx.Batch) (proto.Message, error)

// Create writes the aggregate write queues, as the package documentation states.
func (c *Creator) Create(ctx context.Context, n New, write Write) error {
	b := &pgx.Batch{}
	// First in the batch: a racing retry waits on the key (idempotency.Store.Queue).
	if err := c.Idem.Queue(b, n.Key, n.Resp); err != nil {
		return err
	}
	event, err := write(b)
	if err != nil {
		return err
	}
	if err := outbox.Queue(b, outbox.Event{Producer: c.Producer, AggregateID: n.ID, Mission: n.Mission, Payload: event}); err != nil {
		return err
	}
	audit.Queue(b, audit.For(ctx, n.Who, n.Mission, n.ID).WithClientRequest(n.Key.RequestID))
	err = c.DB.Mission(n.Who.Mission).SendBatch(ctx, b).Close()
	if n.Applied != nil {
		*n.Applied = err == nil
	}
	return c.Idem.Settle(ctx, c.DB.Mission(n.Key.Mission), n.Key, n.Resp, err)
}
