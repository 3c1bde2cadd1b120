package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/passage-cm/passage/internal/failurelog"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/outbox"
)

// Role is the database role the chainer and the verifier connect with: it reads every
// mission's records and appends links, and can change neither.
const Role = "passage_auditor"

// ChainerConfig tunes a Chainer.
type ChainerConfig struct {
	// BatchSize bounds the records linked in one transaction (default 1000).
	BatchSize int
	// PollInterval is how often Run looks for new records (default 250ms).
	PollInterval time.Duration
	// Logger reports failed runs (no record content). Default slog.Default.
	Logger *slog.Logger
	// MeterProvider gets the chainer's lag gauges while Run runs (see Lag). Default the
	// global one.
	MeterProvider metric.MeterProvider
}

// Chainer links committed audit records into their missions' chains, in commit order.
//
// Requests only INSERT their record: nothing on the request path waits for a chain head, so
// missions' writers never queue behind each other. The chainer reads records past its cursor
// and below the commit-order horizon (outbox.Horizon), ordered by (tx_id, record_id), exactly
// as the outbox consumer reads events, so a record that commits late is never skipped, and
// appends one link per record to its mission's chain. Several chainers (one per process) are
// safe: they take turns on the cursor row, which they lock for the length of a batch.
type Chainer struct {
	pool *pgxpool.Pool
	key  *Key
	cfg  ChainerConfig
}

// cursorName is the chainer's row in audit.chain_cursor.
const cursorName = "chain"

// NewChainer returns a chainer over pool, connected as Role.
func NewChainer(pool *pgxpool.Pool, key *Key, cfg ChainerConfig) *Chainer {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	return &Chainer{pool: pool, key: key, cfg: cfg}
}

// Drain links every record committed below the horizon now and returns how many it linked.
func (c *Chainer) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := c.drainBatch(ctx)
		total += n
		if err != nil || n < c.cfg.BatchSize {
			return total, err
		}
	}
}

// selectRecord reads records in the form the MAC covers. A NULL id reads as the nil UUID,
// which the canonical form uses for "none". Queries after it order by r.tx_id: a bare tx_id
// would mean the text output column, and "10" sorts before "9".
const selectRecord = `SELECT r.record_id, r.tx_id::text, r.mission, r.actor, r.role, r.caller_mission, r.method,
  coalesce(r.aggregate_id, '00000000-0000-0000-0000-000000000000'::uuid), r.reason, r.request_id,
  coalesce(r.client_request_id, '00000000-0000-0000-0000-000000000000'::uuid), r.occurred_at
FROM audit.record r`

func scanRecord(row pgx.CollectableRow) (stored, error) {
	var r stored
	err := row.Scan(&r.ID, &r.TxID, &r.Mission, &r.Actor, &r.Role, &r.CallerMission, &r.Method, &r.AggregateID,
		&r.Reason, &r.RequestID, &r.ClientRequestID, &r.OccurredAt)
	return r, err
}

// head is the last link of a mission's chain.
type head struct {
	position int64
	mac      []byte
}

func (c *Chainer) drainBatch(ctx context.Context) (int, error) {
	linked := 0
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		linked = 0
		if _, err := tx.Exec(ctx, `INSERT INTO audit.chain_cursor (name, tx_id, record_id) VALUES ($1, '0', 0)
ON CONFLICT (name) DO NOTHING`, cursorName); err != nil {
			return fmt.Errorf("audit: cursor: %w", err)
		}
		var txID string
		var recordID int64
		if err := tx.QueryRow(ctx, `SELECT tx_id::text, record_id FROM audit.chain_cursor WHERE name = $1 FOR UPDATE`,
			cursorName).Scan(&txID, &recordID); err != nil {
			return fmt.Errorf("audit: cursor: %w", err)
		}
		rows, _ := tx.Query(ctx, selectRecord+`
WHERE (r.tx_id, r.record_id) > ($1::text::xid8, $2) AND r.tx_id < `+outbox.Horizon+`
ORDER BY r.tx_id, r.record_id
LIMIT $3`, txID, recordID, c.cfg.BatchSize)
		records, err := pgx.CollectRows(rows, scanRecord)
		if err != nil {
			return fmt.Errorf("audit: read records: %w", err)
		}
		if len(records) == 0 {
			return nil
		}
		heads, err := c.heads(ctx, tx, records)
		if err != nil {
			return err
		}
		links := make([][]any, 0, len(records))
		for _, r := range records {
			h := heads[r.Mission]
			pos := h.position + 1
			tag, err := c.key.link(r, pos, h.mac)
			if err != nil {
				return err
			}
			links = append(links, []any{r.Mission, pos, r.ID, r.TxID, h.mac, tag})
			heads[r.Mission] = head{position: pos, mac: tag}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit.link (mission, position, record_id, tx_id, prev_mac, mac)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]::xid8[], $5::bytea[], $6::bytea[])`,
			column[string](links, 0), column[int64](links, 1), column[int64](links, 2), column[string](links, 3),
			column[[]byte](links, 4), column[[]byte](links, 5)); err != nil {
			return fmt.Errorf("audit: append links: %w", err)
		}
		last := records[len(records)-1]
		if _, err := tx.Exec(ctx, `UPDATE audit.chain_cursor SET tx_id = $2::text::xid8, record_id = $3 WHERE name = $1`,
			cursorName, last.TxID, last.ID); err != nil {
			return fmt.Errorf("audit: move cursor: %w", err)
		}
		linked = len(records)
		return nil
	})
	return linked, err
}

// heads returns the last link of every mission the records belong to; a mission with no
// chain yet starts at position 0 with an empty MAC.
func (c *Chainer) heads(ctx context.Context, tx pgx.Tx, records []stored) (map[string]head, error) {
	heads := map[string]head{}
	var missions []string
	for _, r := range records {
		if _, ok := heads[r.Mission]; !ok {
			heads[r.Mission] = head{mac: []byte{}}
			missions = append(missions, r.Mission)
		}
	}
	rows, _ := tx.Query(ctx, `SELECT m, l.position, l.mac
FROM unnest($1::text[]) m
CROSS JOIN LATERAL (SELECT position, mac FROM audit.link WHERE mission = m ORDER BY position DESC LIMIT 1) l`, missions)
	var m string
	var h head
	if _, err := pgx.ForEachRow(rows, []any{&m, &h.position, &h.mac}, func() error {
		heads[m] = h
		return nil
	}); err != nil {
		return nil, fmt.Errorf("audit: read chain heads: %w", err)
	}
	return heads, nil
}

func column[T any](rows [][]any, i int) []T {
	out := make([]T, len(rows))
	for j, r := range rows {
		out[j] = r[i].(T)
	}
	return out
}

// CatchUp drains until no record lies past the cursor, or until wait has passed: records of
// transactions that committed after an older, still-running transaction began stay behind
// the horizon until it ends (anywhere in the cluster), so one Drain may not link them.
func (c *Chainer) CatchUp(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	pause := 5 * time.Millisecond
	for {
		if _, err := c.Drain(ctx); err != nil {
			return err
		}
		var pending bool
		if err := c.pool.QueryRow(ctx, `SELECT EXISTS (
  SELECT FROM audit.record r LEFT JOIN audit.chain_cursor c ON c.name = $1
  WHERE (r.tx_id, r.record_id) > (coalesce(c.tx_id, '0'::xid8), coalesce(c.record_id, 0)))`, cursorName).Scan(&pending); err != nil {
			return fmt.Errorf("audit: look for records to chain: %w", err)
		}
		if !pending {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("audit: records still unchained after the wait (a long transaction holds the horizon)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// Run drains every PollInterval until ctx ends. A failed drain is logged and retried with a
// growing pause (up to 30 s). While it runs, the records not yet chained and the age of the
// oldest are metrics (see Lag).
func (c *Chainer) Run(ctx context.Context) error {
	if unregister, err := c.observe(); err != nil {
		c.cfg.Logger.WarnContext(ctx, "audit chainer: no lag metrics", middleware.ErrorAttr(err))
	} else {
		defer func() { _ = unregister() }()
	}
	pause := c.cfg.PollInterval
	failures := failurelog.New(c.cfg.Logger, "audit chainer")
	for {
		_, err := c.Drain(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures.Failed(ctx, err)
			pause = min(2*pause, 30*time.Second)
		default:
			failures.Succeeded(ctx)
			pause = c.cfg.PollInterval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}
