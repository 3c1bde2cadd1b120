package mutation

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
)

// Kind describes, once per service, the aggregate A its mutations change. Every field but
// Await is required.
type Kind[A any] struct {
	DB       *database.DB
	Idem     *idempotency.Store
	Producer string
	Clock    func() time.Time

	// Parse turns the aggregate id as the caller wrote it into its id, or the service's
	// invalid-argument error.
	Parse func(ref string) (uuid.UUID, error)
	// Lock reads the aggregate in tx and locks its row until tx ends, or returns the service's
	// not-found error.
	Lock func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (A, error)
	// Version and Mission read the locked aggregate's current version and owning mission.
	Version func(A) int64
	Mission func(A) string
	// Stale is the service's error for a caller who read version current no longer is; ref is
	// the aggregate id as the caller wrote it.
	Stale func(ref string, current int64) error
	// Save sets the aggregate's version and update time to s.Version and s.Now and queues its
	// row's update on s.Batch.
	Save func(a A, s *Step)
	// Await, when set, runs each attempt of the transaction, e.g. to catch up on a projection
	// and try again when the aggregate is not there yet; nil runs it once.
	Await func(ctx context.Context, id uuid.UUID, attempt func() error) error
}

// Step is what a Change works with: the open transaction, the batch its writes are queued
// on (sent after the Change returns, with the aggregate, the event, the audit record and the
// first result), and the version and time the change is written at.
type Step struct {
	Tx      pgx.Tx
	Batch   *pgx.Batch
	Version int64
	Now     time.Time
}

// Change is one RPC's own logic on the locked aggregate: it checks what only it knows, edits
// a in place, queues its own writes on s.Batch, fills the response and returns the outbox event
// to record. An error rolls everything back.
type Change[A any] func(a A, s *Step) (proto.Message, error)

// Mutation is one call: who asks, under which idempotency key, for which aggregate at which
// version, into which response.
type Mutation struct {
	Who auth.Claims
	Key idempotency.Key
	// Ref is the aggregate id as the caller wrote it (see Kind.Parse).
	Ref string
	// Version is the aggregate version the caller read.
	Version int64
	// Resp is filled by the Change, or by the replay of the request's first result.
	Resp proto.Message
}

// Run applies change to m's aggregate as the package documentation states.
func (k *Kind[A]) Run(ctx context.Context, m Mutation, change Change[A]) error {
	id, err := k.Parse(m.Ref)
	if err != nil {
		return err
	}
	attempt := func() error {
		return k.DB.MissionTx(ctx, m.Who.Mission, func(tx pgx.Tx) error {
			return k.apply(ctx, tx, id, m, change)
		})
	}
	if k.Await != nil {
		err = k.Await(ctx, id, attempt)
	} else {
		err = attempt()
	}
	return k.Idem.Settle(ctx, k.DB.Mission(m.Key.Mission), m.Key, m.Resp, err)
}

// apply is one attempt in tx.
func (k *Kind[A]) apply(ctx context.Context, tx pgx.Tx, id uuid.UUID, m Mutation, change Change[A]) error {
	a, err := k.Lock(ctx, tx, m.Who, id)
	if err != nil {
		return err
	}
	if replayed, err := k.Idem.Replay(ctx, tx, m.Key, m.Resp); replayed || err != nil {
		return err
	}
	if current := k.Version(a); current != m.Version {
		return k.Stale(m.Ref, current)
	}
	s := &Step{Tx: tx, Batch: &pgx.Batch{}, Version: m.Version + 1, Now: k.Clock()}
	event, err := change(a, s)
	if err != nil {
		return err
	}
	k.Save(a, s)
	mission := k.Mission(a)
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: k.Producer, AggregateID: id, Mission: mission, Payload: event}}); err != nil {
		return err
	}
	audit.Add(&st, []audit.Entry{audit.For(ctx, m.Who, mission, id).WithClientRequest(m.Key.RequestID)})
	if err := k.Idem.Add(&st, []idempotency.Record{{Key: m.Key, Response: m.Resp}}); err != nil {
		return err
	}
	st.Queue(s.Batch)
	return tx.SendBatch(ctx, s.Batch).Close()
}
