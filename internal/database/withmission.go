package database

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// WithMission returns tx declared for mission from its next statement on, like
// DeclareMission, but without a round trip of its own: the declaration is sent in one batch
// with the next Exec, Query, QueryRow or SendBatch. An outbox consumer's handler, which
// declares each event's mission before it writes, saves a round trip per event this way.
// Until the next statement, the transaction stays declared as it was.
func WithMission(tx pgx.Tx, mission string) pgx.Tx {
	return &missionTx{Tx: tx, mission: mission}
}

type missionTx struct {
	pgx.Tx
	mission string
	sent    bool // the declaration went with an earlier statement
}

// send sends b's statements after the declaration, if it is still to be sent, and reads the
// declaration's result.
func (t *missionTx) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if t.sent {
		return t.Tx.SendBatch(ctx, b), nil
	}
	t.sent = true
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+1)}
	full.Queue(declareSQL, MissionSetting, t.mission)
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	br := t.Tx.SendBatch(ctx, full)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("database: declare mission: %w", err)
	}
	return br, nil
}

func (t *missionTx) one(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return t.send(ctx, b)
}

func (t *missionTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.sent {
		return t.Tx.Exec(ctx, sql, args...)
	}
	br, err := t.one(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *missionTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.sent {
		return t.Tx.Query(ctx, sql, args...)
	}
	br, err := t.one(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &declaredRows{Rows: rows, br: br}, nil
}

func (t *missionTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.sent {
		return t.Tx.QueryRow(ctx, sql, args...)
	}
	br, err := t.one(ctx, sql, args)
	if err != nil {
		return refusedRowErr{err}
	}
	return &declaredRow{br: br}
}

func (t *missionTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br, err := t.send(ctx, b)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

// refusedRowErr is a row whose query could not be sent.
type refusedRowErr struct{ err error }

func (r refusedRowErr) Scan(...any) error { return r.err }
