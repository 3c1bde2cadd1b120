package database

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The settings row-level security reads (migrations/000007_row_security.up.sql). Both are set
// with set_config(name, value, true): local to the transaction, gone when it ends, so a pooled
// connection never carries one to its next user.
const (
	// MissionSetting is the mission a transaction works for; the policies show it that
	// mission's rows only (and HQ the few others it needs by design).
	MissionSetting = "passage.mission"
	// ConsumerSetting declares an outbox consumer's transaction, which may read every
	// mission's events (and nothing else across missions).
	ConsumerSetting = "passage.outbox_consumer"
	// MaintenanceSetting declares a maintenance job's transaction (the retention job's
	// "retention"), which named policies let read across missions just what the job needs.
	MaintenanceSetting = "passage.maintenance"
	// PartnerSetting declares a partner agency's transaction (its registry id): the referral
	// service's named policies show it that partner's referrals and nothing of any mission
	// besides (migrations/000014_referral.up.sql).
	PartnerSetting = "passage.partner"
	// WebhookWorkerSetting declares the outbound delivery worker's transaction
	// (internal/webhook), which delivers for every mission: named policies let it read and
	// update every mission's webhook deliveries and record their attempts, nothing else.
	WebhookWorkerSetting = "passage.webhook_worker"
	// SearchElsewhereSetting declares, in a transaction that also declared its mission, the
	// blind-index digests a look-up in other missions asks about (DeclareSearchElsewhere):
	// named policies then show intake's role the other missions' exact-kind index rows of
	// those digests, their cases, and let it tell those missions' chains they were asked
	// (migrations/000038_search_elsewhere.up.sql).
	SearchElsewhereSetting = "passage.search_elsewhere"
)

// ErrUndeclared refuses a statement or transaction that would run without declaring its
// mission (or consumer): the database would show it nothing, and a silent empty result is a
// bug better found at once.
var ErrUndeclared = errors.New("database: no mission declared for the statement")

// scopeValue is what a mission code ("NER", "NER-AGADEZ", "HQ") or a consumer name
// ("returns") may look like. Values are written into a BEGIN statement as literals (see tx),
// so nothing that could end a literal is accepted.
var scopeValue = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

const declareSQL = `SELECT set_config($1, $2, true)`

// DB is a service's pool seen through row-level security: every statement it runs is in a
// transaction that declared its mission first, in the same round trip as the work. It offers
// no way to run a statement that declares nothing; the raw pool stays with whoever opened it.
type DB struct {
	pool *pgxpool.Pool
}

// NewDB wraps a service's pool (connected as the service's role).
func NewDB(pool *pgxpool.Pool) *DB {
	return &DB{pool: pool}
}

// Mission returns a Querier for mission's rows. Each Exec, Query or QueryRow runs as one
// implicit transaction that declares the mission and then runs the statement; a SendBatch gets
// the declaration queued before the batch's statements. Either way it is one round trip, as
// before. An empty or malformed mission makes every call fail with ErrUndeclared.
func (db *DB) Mission(mission string) Querier {
	return db.declared(MissionSetting, mission)
}

// MissionTx runs fn in a transaction that declared mission, and commits it (see InTx for
// retries). The declaration travels with BEGIN, so it costs no round trip of its own.
func (db *DB) MissionTx(ctx context.Context, mission string, fn func(pgx.Tx) error) error {
	return db.tx(ctx, MissionSetting, mission, fn)
}

// OutboxConsumer returns a Querier for the outbox consumer name: it may read every mission's
// events and nothing else of another mission.
func (db *DB) OutboxConsumer(name string) Querier {
	return db.declared(ConsumerSetting, name)
}

// OutboxConsumerTx runs fn in a transaction declared for the outbox consumer name. Before it
// writes what an event implies, the handler declares the event's mission in the same
// transaction (QueueMission, DeclareMission), and the mission's policies apply to those writes.
func (db *DB) OutboxConsumerTx(ctx context.Context, name string, fn func(pgx.Tx) error) error {
	return db.tx(ctx, ConsumerSetting, name, fn)
}

// Partner returns a Querier for the partner agency partnerID (a UUID): its statements see
// only what the partner policies let that partner see.
func (db *DB) Partner(partnerID string) Querier {
	return db.declared(PartnerSetting, partnerID)
}

// PartnerTx runs fn in a transaction declared for the partner agency partnerID.
func (db *DB) PartnerTx(ctx context.Context, partnerID string, fn func(pgx.Tx) error) error {
	return db.tx(ctx, PartnerSetting, partnerID, fn)
}

// Maintenance returns a Querier for the maintenance job name (e.g. "retention"): it may read,
// across missions, only what that job's named policies allow; its writes go through Mission.
func (db *DB) Maintenance(name string) Querier {
	return db.declared(MaintenanceSetting, name)
}

// WebhookWorker returns a Querier for the webhook delivery worker name: it may read and
// update every mission's deliveries (migrations/000016_webhook.up.sql), and nothing else of
// another mission.
func (db *DB) WebhookWorker(name string) Querier {
	return db.declared(WebhookWorkerSetting, name)
}

// WebhookWorkerTx runs fn in a transaction declared for the webhook delivery worker name (see
// WebhookWorker). A write that needs a mission's policies (an audit record) declares that
// mission first in the same transaction (DeclareMission, QueueMission).
func (db *DB) WebhookWorkerTx(ctx context.Context, name string, fn func(pgx.Tx) error) error {
	return db.tx(ctx, WebhookWorkerSetting, name, fn)
}

// QueueMission queues the declaration of mission on b. Queue it first: the statements before it
// run under whatever was declared before (in a consumer's transaction, the previous event's
// mission, or none).
func QueueMission(b *pgx.Batch, mission string) {
	b.Queue(declareSQL, MissionSetting, mission)
}

// DeclareMission declares mission for the rest of tx, in a round trip of its own. Prefer
// QueueMission on a batch that does the work.
func DeclareMission(ctx context.Context, tx pgx.Tx, mission string) error {
	if _, err := tx.Exec(ctx, declareSQL, MissionSetting, mission); err != nil {
		return fmt.Errorf("database: declare mission: %w", err)
	}
	return nil
}

// DeclareSearchElsewhere declares, for the rest of tx, the digests a look-up in other
// missions asks about (SearchElsewhereSetting), as lower-case hex joined by commas. The
// digests are keyed HMACs, never an identifier in clear. tx must have declared its mission:
// the asking mission, whose own rows mission_isolation shows as before.
func DeclareSearchElsewhere(ctx context.Context, tx pgx.Tx, digests [][]byte) error {
	if len(digests) == 0 {
		return ErrUndeclared
	}
	parts := make([]string, len(digests))
	for i, d := range digests {
		parts[i] = hex.EncodeToString(d)
	}
	if _, err := tx.Exec(ctx, declareSQL, SearchElsewhereSetting, strings.Join(parts, ",")); err != nil {
		return fmt.Errorf("database: declare search elsewhere: %w", err)
	}
	return nil
}

func (db *DB) declared(setting, value string) Querier {
	if !scopeValue.MatchString(value) {
		return refused{}
	}
	return &declared{pool: db.pool, setting: setting, value: value}
}

func (db *DB) tx(ctx context.Context, setting, value string, fn func(pgx.Tx) error) error {
	if !scopeValue.MatchString(value) {
		return ErrUndeclared
	}
	// The declaration is sent with BEGIN as one simple-protocol query. value is a literal here,
	// hence scopeValue: letters, digits, '-' and '_' only.
	opts := pgx.TxOptions{BeginQuery: "BEGIN; SELECT set_config('" + setting + "', '" + value + "', true)"}
	return inTx(ctx, db.pool, opts, fn)
}

// declared runs each call as [declaration, statement] in one batch: one round trip, one
// implicit transaction, so the declaration holds for the statement and ends with it.
type declared struct {
	pool           *pgxpool.Pool
	setting, value string
}

func (d *declared) send(ctx context.Context, sql string, args []any) pgx.BatchResults {
	b := &pgx.Batch{}
	b.Queue(declareSQL, d.setting, d.value)
	b.Queue(sql, args...)
	br := watch(d.pool, d.pool.SendBatch(ctx, b))
	br.Exec() //nolint:errcheck // a failed declaration fails the batch: the next read reports it
	return br
}

func (d *declared) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br := d.send(ctx, sql, args)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (d *declared) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return &declaredRow{br: d.send(ctx, sql, args)}
}

func (d *declared) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	br := d.send(ctx, sql, args)
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &declaredRows{Rows: rows, br: br}, nil
}

func (d *declared) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+1)}
	full.Queue(declareSQL, d.setting, d.value)
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	br := watch(d.pool, d.pool.SendBatch(ctx, full))
	br.Exec() //nolint:errcheck // a failed declaration fails the batch: Close reports it
	return br
}

// declaredRow reads the statement's row, then releases the batch (and its connection).
type declaredRow struct {
	br pgx.BatchResults
}

func (r *declaredRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// declaredRows releases the batch when the rows are closed, which Next does at the end.
type declaredRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *declaredRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *declaredRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *declaredRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// refused is the Querier of an undeclared mission: every call fails with ErrUndeclared.
type refused struct{}

func (refused) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, ErrUndeclared
}

func (refused) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, ErrUndeclared }

func (refused) QueryRow(context.Context, string, ...any) pgx.Row { return refusedRow{} }

func (refused) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	return pgx.FailedBatchResults(b, ErrUndeclared)
}

type refusedRow struct{}

func (refusedRow) Scan(...any) error { return ErrUndeclared }
