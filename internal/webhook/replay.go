package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
)

// ReplayFilter chooses the dead deliveries Replay queues again.
type ReplayFilter struct {
	// Partner, when set, limits the replay to one partner.
	Partner uuid.UUID
	// Since, when set, limits it to deliveries dead-lettered at or after Since.
	Since time.Time
	// By is the staff id of the operator who asked, for the audit record (required).
	By string
}

// ReplayCommand is the method the audit record of a replay names.
const ReplayCommand = "passage referral deliveries replay"

const replaySQL = `UPDATE webhook.delivery SET state = 'pending', finished_at = NULL, next_attempt_at = now(),
  queued_at = now(), attempts_at_queue = attempts, replayed = replayed + 1
WHERE state = 'dead' AND ($1::uuid IS NULL OR partner_id = $1) AND ($2::timestamptz IS NULL OR finished_at >= $2)
RETURNING mission, ordering_key`

// Replay puts the dead deliveries filter chooses back in the queue, due now, with a fresh
// attempt budget and their own webhook-id, and audits each (the operator, the ordering key)
// in the same transaction. It returns how many it queued. A replayed delivery holds back the
// later deliveries of its ordering key that are still pending until it is delivered or dead.
func Replay(ctx context.Context, db *database.DB, filter ReplayFilter) (int, error) {
	if filter.By == "" {
		return 0, errors.New("webhook: replay needs the operator's staff id")
	}
	var partner, since any
	if filter.Partner != uuid.Nil {
		partner = filter.Partner
	}
	if !filter.Since.IsZero() {
		since = filter.Since
	}
	n := 0
	err := db.WebhookWorkerTx(ctx, "replay", func(tx pgx.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, replaySQL, partner, since)
		if err != nil {
			return err
		}
		type replayed struct {
			mission string
			key     uuid.UUID
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (replayed, error) {
			var x replayed
			return x, r.Scan(&x.mission, &x.key)
		})
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, x := range all {
			// The record joins the delivery's mission's chain, under that mission's policy.
			database.QueueMission(b, x.mission)
			var st database.Statement
			audit.Add(&st, []audit.Entry{{Mission: x.mission, Actor: filter.By, Role: "operator", CallerMission: x.mission,
				Method: ReplayCommand, AggregateID: x.key}})
			st.Queue(b)
		}
		n = len(all)
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("webhook: replay: %w", err)
	}
	return n, nil
}

// State is a delivery's place in the queue.
type State string

// The states of a delivery.
const (
	StatePending   State = "pending"
	StateDelivered State = "delivered"
	StateDead      State = "dead"
)

// Info is what an operator sees of a delivery: ids, type, state and the last sanitised error;
// never the body.
type Info struct {
	ID          int64
	Mission     string
	Partner     uuid.UUID
	OrderingKey uuid.UUID
	EventID     string
	EventType   string
	State       State
	Attempts    int
	CreatedAt   time.Time
	NextAttempt time.Time
	FinishedAt  *time.Time
	LastError   string
}

// ListFilter chooses the deliveries List returns.
type ListFilter struct {
	// State, when set, limits the list to one state (StateDead for the dead letters).
	State State
	// Partner, when set, limits it to one partner.
	Partner uuid.UUID
	// Limit caps the rows (default 100, at most 1000).
	Limit int
}

// List returns deliveries of every mission, newest first, for operators.
func List(ctx context.Context, db *database.DB, f ListFilter) ([]Info, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var state, partner any
	if f.State != "" {
		state = string(f.State)
	}
	if f.Partner != uuid.Nil {
		partner = f.Partner
	}
	rows, err := db.WebhookWorker("list").Query(ctx, `SELECT delivery_id, mission, partner_id, ordering_key, event_id,
  event_type, state, attempts, created_at, next_attempt_at, finished_at, coalesce(last_error, '')
FROM webhook.delivery
WHERE ($1::text IS NULL OR state = $1) AND ($2::uuid IS NULL OR partner_id = $2)
ORDER BY delivery_id DESC LIMIT $3`, state, partner, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Info, error) {
		var x Info
		var s string
		err := r.Scan(&x.ID, &x.Mission, &x.Partner, &x.OrderingKey, &x.EventID, &x.EventType, &s, &x.Attempts,
			&x.CreatedAt, &x.NextAttempt, &x.FinishedAt, &x.LastError)
		x.State = State(s)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	return out, nil
}
