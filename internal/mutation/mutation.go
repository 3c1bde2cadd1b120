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
// Await and Partners is required, and Version, Stale and Save too but for an aggregate
// without a version (Version nil: see the package documentation).
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
	// Version is nil for an aggregate without a version (Stale and Save then too).
	Version func(A) int64
	Mission func(A) string
	// Stale is the service's error for a caller who read a version the locked aggregate a no
	// longer is at; ref is the aggregate id as the caller wrote it.
	Stale func(ref string, a A) error
	// Save sets the aggregate's version and update time to s.Version and s.Now and queues its
	// row's update on s.Batch.
	Save func(a A, s *Step)
	// Await, when set, runs each attempt of the transaction, e.g. to catch up on a projection
	// and try again when the aggregate is not there yet; nil runs it once.
	Await func(ctx context.Context, id uuid.UUID, attempt func() error) error
	// About, when set, is the aggregate the events are filed under in the outbox, when that is
	// not the aggregate itself: a hand-over's events are about its case, so that a programme
	// service's look-up of a case's unapplied events (outbox.Consumer.Behind) finds them. Unset,
	// the events are filed under the aggregate's id.
	About func(A) uuid.UUID
	// Partners, when set, lets a partner agency (auth.RolePartner) mutate the aggregate: a
	// partner's transaction, and the read of a lost race's first result, are declared for
	// its partner (database.DB.PartnerTx, Partner) instead of a mission. Unset, every caller
	// works in its mission.
	Partners bool
}

// Step is what a Change works with: the open transaction, the batch its writes are queued
// on (sent after the Change returns, with the aggregate, the event, the audit record and the
// first result), and the version (0 for an aggregate without one) and time the change is
// written at.
type Step struct {
	Tx      pgx.Tx
	Batch   *pgx.Batch
	Version int64
	Now     time.Time
}

// Change is one RPC's own logic on the locked aggregate: it checks what only it knows, edits
// a in place, queues its own writes on s.Batch, fills the response and returns the outbox event
// to record (nil for a change that is audited but not published). An error rolls everything
// back.
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
	// Applied, when set, is set by Run to whether this call's own Change committed: false
	// for a replay, a lost race or an error. A Change that makes something only its own
	// caller may see (a new secret) gives it out only then.
	Applied *bool
}

// Run applies change to m's aggregate as the package documentation states.
func (k *Kind[A]) Run(ctx context.Context, m Mutation, change Change[A]) error {
	id, err := k.Parse(m.Ref)
	if err != nil {
		return err
	}
	inTx, settle := k.DB.MissionTx, k.DB.Mission(m.Key.Mission)
	if k.Partners && m.Who.Role == auth.RolePartner {
		inTx = func(ctx context.Context, _ string, fn func(pgx.Tx) error) error {
			return k.DB.PartnerTx(ctx, m.Who.Partner, fn)
		}
		settle = k.DB.Partner(m.Who.Partner)
	}
	var applied bool
	attempt := func() error {
		return inTx(ctx, m.Who.Mission, func(tx pgx.Tx) (err error) {
			applied, err = k.apply(ctx, tx, id, m, change)
			return err
		})
	}
	if k.Await != nil {
		err = k.Await(ctx, id, attempt)
	} else {
		err = attempt()
	}
	if m.Applied != nil {
		*m.Applied = err == nil && applied
	}
	return k.Idem.Settle(ctx, settle, m.Key, m.Resp, err)
}

// apply is one attempt in tx; it reports whether the change was made (not replayed).
func (k *Kind[A]) apply(ctx context.Context, tx pgx.Tx, id uuid.UUID, m Mutation, change Change[A]) (bool, error) {
	a, err := k.Lock(ctx, tx, m.Who, id)
	if err != nil {
		return false, err
	}
	if replayed, err := k.Idem.Replay(ctx, tx, m.Key, m.Resp); replayed || err != nil {
		return false, err
	}
	s := &Step{Tx: tx, Batch: &pgx.Batch{}, Now: k.Clock()}
	if k.Version != nil {
		if k.Version(a) != m.Version {
			return false, k.Stale(m.Ref, a)
		}
		s.Version = m.Version + 1
	}
	event, err := change(a, s)
	if err != nil {
		return false, err
	}
	if k.Save != nil {
		k.Save(a, s)
	}
	about := id
	if k.About != nil {
		about = k.About(a)
	}
	var st database.Statement
	if err := record(ctx, &st, k.Idem, k.Producer, m.Who, m.Key, id, about, k.Mission(a), m.Resp, event); err != nil {
		return false, err
	}
	st.Queue(s.Batch)
	return true, tx.SendBatch(ctx, s.Batch).Close()
}

// record adds to st what every change writes beside its own rows: its outbox event (none for
// a nil event) filed under about, its audit record of aggregate id, and its first result.
func record(ctx context.Context, st *database.Statement, idem *idempotency.Store, producer string, who auth.Claims,
	key idempotency.Key, id, about uuid.UUID, mission string, resp, event proto.Message,
) error {
	if event != nil {
		if err := outbox.Add(st, []outbox.Event{{Producer: producer, AggregateID: about, Mission: mission, Payload: event}}); err != nil {
			return err
		}
	}
	audit.Add(st, []audit.Entry{audit.For(ctx, who, mission, id).WithClientRequest(key.RequestID)})
	return idem.Add(st, []idempotency.Record{{Key: key, Response: resp}})
}

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
	Who auth.Claims
	Key idempotency.Key
	ID  uuid.UUID
	// About is the aggregate the event is filed under when it is not ID (Kind.About); the
	// zero UUID files it under ID.
	About   uuid.UUID
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
	rows := &pgx.Batch{}
	event, err := write(rows)
	if err != nil {
		return err
	}
	about := n.About
	if about == uuid.Nil {
		about = n.ID
	}
	var st database.Statement
	if err := record(ctx, &st, c.Idem, c.Producer, n.Who, n.Key, n.ID, about, n.Mission, n.Resp, event); err != nil {
		return err
	}
	// The first result first, before the rows: a racing retry fails on the key rather than on
	// the new aggregate's own constraints (idempotency.Store.Add).
	b := &pgx.Batch{}
	st.Queue(b)
	b.QueuedQueries = append(b.QueuedQueries, rows.QueuedQueries...)
	err = c.DB.Mission(n.Who.Mission).SendBatch(ctx, b).Close()
	if n.Applied != nil {
		*n.Applied = err == nil
	}
	return c.Idem.Settle(ctx, c.DB.Mission(n.Key.Mission), n.Key, n.Resp, err)
}
