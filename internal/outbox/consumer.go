package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/middleware"
)

// Record is one event read from the outbox.
type Record struct {
	ID       int64
	Producer string
	// Type is the payload's full message name, e.g. "passage.intake.v1.CaseRegistered".
	Type        string
	AggregateID uuid.UUID
	Mission     string
	Payload     []byte
	OccurredAt  time.Time

	txID string // the writing transaction's id, where the cursor stops after this record
}

// Decode unmarshals the payload into a message of its registered type.
func (r Record) Decode() (proto.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(r.Type))
	if err != nil {
		return nil, fmt.Errorf("outbox: event %d: unknown type %s", r.ID, r.Type)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(r.Payload, m); err != nil {
		return nil, fmt.Errorf("outbox: event %d: decode %s: %w", r.ID, r.Type, err)
	}
	return m, nil
}

// Horizon is the SQL expression of the commit-order horizon: every transaction id below it
// has ended, and every transaction that starts from now on gets an id at or above it. A row
// stamped with pg_current_xact_id() and below the horizon is therefore committed (or gone for
// good): reading such rows in (tx_id, id) order never skips one that commits late. The audit
// chainer reads its records by the same rule.
const Horizon = `pg_snapshot_xmin(pg_current_snapshot())`

// Handler applies one event inside the consumer's transaction. An error rolls the batch back
// and stops the drain; the event is offered again on the next one.
//
// The transaction is declared for the consumer, which lets it read every mission's events; it
// is declared for no mission. A handler's first statement declares the event's mission
// (database.QueueMission on its batch, or database.DeclareMission), so that row-level security
// holds its writes to that mission. A handler that forgets is refused by the database.
type Handler func(ctx context.Context, tx pgx.Tx, r Record) error

// BatchHandler applies the wanted events of one drain together, in commit order, inside the
// consumer's transaction, so that a projection can write them with a few multi-row statements
// instead of a round trip per event. The records may span missions: the handler declares each
// mission before the statements that write its rows (one statement per mission and table is
// the usual shape), so row-level security still holds every row to the mission its event was
// recorded for. The same aggregate may appear more than once; the handler must leave it as
// the last of them would have.
//
// An error is not final: the consumer rolls the handler's writes back and applies the same
// records one at a time with the Handler, so that the events before a failing one are applied
// and only it (and those after it) wait for the next drain.
type BatchHandler func(ctx context.Context, tx pgx.Tx, records []Record) error

// ConsumerConfig says what a consumer reads and where it keeps its place.
type ConsumerConfig struct {
	// Name identifies the consumer; it has one cursor row. E.g. "returns".
	Name string
	// CursorTable is a table in the consumer's own schema, created by its migrations as
	//   (name text, partition int, partitions int, tx_id xid8, event_id bigint,
	//    holder text, generation bigint, lease_until timestamptz, PRIMARY KEY (name, partition))
	// (migrations 000002 and 000042), e.g. "returns.outbox_cursor": one row, cursor and
	// lease, per partition. A trusted constant, never input.
	CursorTable string
	// Partitions is how many partitions the consumer's events are split into by a hash of
	// their aggregate (default 1: every event in one partition, one replica at a time). Each
	// partition is applied in commit order by one replica at a time, so N replicas apply up to
	// N partitions at once. A consumer whose handlers read only the state of the event's own
	// aggregate may have many (the services' consumers have IndexedPartitions); one whose
	// handlers read another aggregate's state (a referral reading its case) needs 1, or that
	// state may not be there yet. The count is fixed once a consumer has spread its cursor:
	// only 1 may become more (see doc.go).
	Partitions int
	// LeaseTTL is how long a replica's leases on its partitions last unless renewed (default
	// 5 s): a replica that dies gives its partitions up that long after its last renewal.
	// Leases are renewed, and shares balanced, every LeaseTTL/5.
	LeaseTTL time.Duration
	// Types are the event types wanted; other events are passed over (the cursor still moves).
	Types []string
	// Handle applies one wanted event. It is required, also with HandleBatch: it is the
	// fallback when a batch fails.
	Handle Handler
	// HandleBatch, when set, applies each drain's wanted events together (see BatchHandler).
	HandleBatch BatchHandler
	// BatchSize bounds the events applied in one transaction (default 500).
	BatchSize int
	// PollInterval is how often Run looks for new events (default 250ms).
	PollInterval time.Duration
	// Logger reports failed drains (ids and types only, never payloads). Default slog.Default.
	Logger *slog.Logger
	// MeterProvider gets the consumer's backlog gauges while Run runs (see Lag). Default the
	// global one.
	MeterProvider metric.MeterProvider
}

// Consumer applies outbox events in commit order, exactly once in effect: the cursor moves in
// the same transaction as the handler's writes.
//
// Events are read in (transaction id, event id) order, and only from transactions older than
// the oldest transaction still running (pg_snapshot_xmin of the current snapshot). A
// transaction that commits late is therefore never skipped: until it ends, the consumer does
// not read past it. The price is freshness, not correctness: a long transaction anywhere in
// the cluster holds every consumer back until it ends.
type Consumer struct {
	db     *database.DB
	cfg    ConsumerConfig
	holder string // this replica's id in the leases

	readyMu sync.Mutex
	ready   bool // the cursor rows for cfg.Partitions exist

	leasesMu sync.Mutex
	leases   map[int]int64 // the partitions this replica leases, with each lease's generation
	retries  map[int]retry // those of them whose last drain by Run failed
}

// NewConsumer returns a consumer reading through pool (connected as the consumer's service
// role, which needs SELECT on outbox.event and SELECT, INSERT, UPDATE on its cursor table).
func NewConsumer(pool *pgxpool.Pool, cfg ConsumerConfig) *Consumer {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
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
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	return &Consumer{db: database.NewDB(pool), cfg: cfg, holder: uuid.NewString(), leases: map[int]int64{},
		retries: map[int]retry{}}
}

// Drain applies every event visible now, partition after partition (those that have any),
// and returns how many wanted events it applied. It is safe to call from several goroutines
// and replicas: they take turns on each partition's cursor row, whoever leases it (the lease
// says which replica Run drains a partition on; the row lock, taken by every drain, is what
// applies each event once). A failing event holds back only its own partition: Drain goes
// on with the others and returns the applied count with the failed partitions' errors,
// joined. With a BatchHandler, an event that fails on its own may come after events applied
// and committed in the same drain.
func (c *Consumer) Drain(ctx context.Context) (int, error) {
	if err := c.ensure(ctx); err != nil {
		return 0, err
	}
	partitions, err := c.backlogged(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, p := range partitions {
		n, err := c.drainPartition(ctx, p, nil)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// drainPartition applies partition p's visible events, a batch per transaction. With a
// fence (Run's drain of a leased partition) it skips the partition while another drain holds
// its row, and stops when the lease is no longer this replica's at the fence's generation.
func (c *Consumer) drainPartition(ctx context.Context, p int, fence *int64) (int, error) {
	total := 0
	for {
		n, more, err := c.drainBatch(ctx, p, fence)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// errLeaseLost ends a fenced drain whose lease another replica has taken.
var errLeaseLost = errors.New("outbox: lease taken by another replica")

func (c *Consumer) drainBatch(ctx context.Context, p int, fence *int64) (applied int, more bool, err error) {
	var failed error
	err = c.db.OutboxConsumerTx(ctx, c.cfg.Name, func(tx pgx.Tx) error {
		// The row lock makes drains of one partition take turns; the fence is checked under
		// it, in the transaction that applies the events and moves the cursor, so a replica
		// whose lease was taken (even while it stalled) commits nothing more.
		lock := `FOR UPDATE`
		if fence != nil {
			lock = `FOR UPDATE SKIP LOCKED`
		}
		var txID string
		var eventID, generation int64
		var holder *string
		err := tx.QueryRow(ctx, `SELECT tx_id::text, event_id, holder, generation FROM `+c.cfg.CursorTable+`
WHERE name = $1 AND partition = $2 `+lock, c.cfg.Name, p).Scan(&txID, &eventID, &holder, &generation)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && fence != nil:
			return nil // another drain has it now
		case err != nil:
			return fmt.Errorf("outbox: cursor: %w", err)
		case fence != nil && (holder == nil || *holder != c.holder || generation != *fence):
			return errLeaseLost
		}
		// ORDER BY names e.tx_id: a bare tx_id would mean the text output column, and "10"
		// sorts before "9", skipping events whenever transaction ids gain a digit.
		rows, err := tx.Query(ctx, `SELECT e.event_id, e.tx_id::text, e.producer, e.event_type, e.aggregate_id, e.mission, e.payload, e.occurred_at
FROM outbox.event e
WHERE `+c.partitionOf("e.aggregate_id")+` = $4
  AND (e.tx_id, e.event_id) > ($1::text::xid8, $2)
  AND e.tx_id < `+Horizon+`
ORDER BY e.tx_id, e.event_id
LIMIT $3`, txID, eventID, c.cfg.BatchSize, p)
		if err != nil {
			return fmt.Errorf("outbox: read events: %w", err)
		}
		var records []Record
		for rows.Next() {
			var r Record
			if err := rows.Scan(&r.ID, &r.txID, &r.Producer, &r.Type, &r.AggregateID, &r.Mission, &r.Payload, &r.OccurredAt); err != nil {
				rows.Close()
				return fmt.Errorf("outbox: read events: %w", err)
			}
			records = append(records, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("outbox: read events: %w", err)
		}
		if len(records) == 0 {
			return nil
		}
		more = len(records) == c.cfg.BatchSize
		if c.cfg.HandleBatch != nil {
			var stop int
			applied, stop, failed = c.applyBatch(ctx, tx, records)
			if failed != nil {
				more = false
				if stop == 0 {
					return failed // nothing before the failing event: roll back, move nothing
				}
				records = records[:stop]
			}
		} else {
			for _, r := range records {
				if !slices.Contains(c.cfg.Types, r.Type) {
					continue
				}
				if err := c.cfg.Handle(ctx, tx, r); err != nil {
					return fmt.Errorf("outbox: %s applying event %d (%s): %w", c.cfg.Name, r.ID, r.Type, err)
				}
				applied++
			}
		}
		return c.moveCursor(ctx, tx, p, records[len(records)-1])
	})
	if err != nil {
		return 0, false, err
	}
	// A failed event after applied ones: those committed with the cursor just before it.
	return applied, more, failed
}

// applyBatch applies the wanted ones of records with HandleBatch, in a savepoint. When the
// batch fails it rolls the savepoint back and applies them one at a time with Handle, each in
// a savepoint of its own, until one fails: it returns how many were applied, the index in
// records of the failing one, and its error. The caller commits those before it with the
// cursor just before the failing one, so a poison event holds back only itself and what
// follows it, and nothing is applied twice.
func (c *Consumer) applyBatch(ctx context.Context, tx pgx.Tx, records []Record) (applied, stop int, err error) {
	wanted := make([]Record, 0, len(records))
	for _, r := range records {
		if slices.Contains(c.cfg.Types, r.Type) {
			wanted = append(wanted, r)
		}
	}
	if len(wanted) == 0 {
		return 0, len(records), nil
	}
	batchErr := savepoint(ctx, tx, func(sp pgx.Tx) error { return c.cfg.HandleBatch(ctx, sp, wanted) })
	if batchErr == nil {
		return len(wanted), len(records), nil
	}
	c.cfg.Logger.WarnContext(ctx, "outbox consumer: batch failed, applying its events one at a time",
		"consumer", c.cfg.Name, "events", len(wanted), middleware.ErrorAttr(batchErr))
	for i, r := range records {
		if !slices.Contains(c.cfg.Types, r.Type) {
			continue
		}
		if err := savepoint(ctx, tx, func(sp pgx.Tx) error { return c.cfg.Handle(ctx, sp, r) }); err != nil {
			return applied, i, fmt.Errorf("outbox: %s applying event %d (%s): %w", c.cfg.Name, r.ID, r.Type, err)
		}
		applied++
	}
	// Every event applied alone: the batch's failure was its own (a statement the batch
	// form gets wrong), not an event's. The drain stands; the log says so.
	return applied, len(records), nil
}

// savepoint runs fn in a savepoint of tx, released when fn succeeds and rolled back when it
// fails, leaving tx usable either way.
func savepoint(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		if rbErr := sp.Rollback(ctx); rbErr != nil {
			return fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
		}
		return err
	}
	return sp.Commit(ctx)
}

func (c *Consumer) moveCursor(ctx context.Context, tx pgx.Tx, p int, last Record) error {
	if _, err := tx.Exec(ctx, `UPDATE `+c.cfg.CursorTable+` SET tx_id = $3::text::xid8, event_id = $4 WHERE name = $1 AND partition = $2`,
		c.cfg.Name, p, last.txID, last.ID); err != nil {
		return fmt.Errorf("outbox: move cursor: %w", err)
	}
	return nil
}

// CatchUp drains until no wanted event lies past the cursors, or until wait has passed. A
// service calls it when a request names something it has not heard of yet (a case registered
// a moment ago): one Drain may not suffice, since events of transactions that committed after
// an older, still-running transaction began stay behind the horizon until it ends. It drains
// every partition, whichever replica leases it: the caller sees the event applied at once,
// and the partition's holder finds the cursor moved on its next drain. A request about one
// case calls CatchUpOn, which drains only that case's partition.
func (c *Consumer) CatchUp(ctx context.Context, wait time.Duration) error {
	return c.catchUp(ctx, wait, c.Drain, c.pending)
}

// CatchUpOn is CatchUp for the events about one aggregate (a case): it drains the aggregate's
// partition only, until none of the consumer's events about the aggregate lies past its
// cursor, or until wait has passed. The events of other aggregates the drains meet in that
// partition are applied too, in order, as any drain applies them.
func (c *Consumer) CatchUpOn(ctx context.Context, aggregate uuid.UUID, wait time.Duration) error {
	p := PartitionOf(aggregate, c.cfg.Partitions)
	drain := func(ctx context.Context) (int, error) {
		if err := c.ensure(ctx); err != nil {
			return 0, err
		}
		return c.drainPartition(ctx, p, nil)
	}
	return c.catchUp(ctx, wait, drain, func(ctx context.Context) (bool, error) {
		return c.Behind(ctx, aggregate, c.cfg.Types)
	})
}

// catchUp drains, then asks behind, until nothing is behind or wait has passed, with a
// growing pause between rounds.
func (c *Consumer) catchUp(ctx context.Context, wait time.Duration, drain func(context.Context) (int, error),
	behind func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(wait)
	pause := 5 * time.Millisecond
	for {
		if _, err := drain(ctx); err != nil {
			return err
		}
		pending, err := behind(ctx)
		if err != nil || !pending || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// pending reports whether wanted events lie past their partition's cursor, committed or not
// yet visible.
func (c *Consumer) pending(ctx context.Context) (bool, error) {
	var pending bool
	err := c.db.OutboxConsumer(c.cfg.Name).QueryRow(ctx, `SELECT EXISTS (
  SELECT FROM `+c.cfg.CursorTable+` c CROSS JOIN LATERAL (
    SELECT FROM outbox.event e
    WHERE `+c.pastCursor("c")+` AND e.event_type = ANY($2)
    LIMIT 1) past
  WHERE c.name = $1)`, c.cfg.Name, c.cfg.Types).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("outbox: look for pending events: %w", err)
	}
	return pending, nil
}

// Behind reports whether an event of one of types about aggregate (a case id) lies past the
// cursor of the aggregate's partition, committed or not yet past the horizon. A request that must not act on stale state
// (a consent withdrawn a moment ago) asks this first; it reads only the aggregate's own events
// past the cursor (the event_aggregate index, migration 000020), however far the consumer lags.
func (c *Consumer) Behind(ctx context.Context, aggregate uuid.UUID, types []string) (bool, error) {
	if err := c.ensure(ctx); err != nil {
		return false, err
	}
	var behind bool
	err := c.db.OutboxConsumer(c.cfg.Name).QueryRow(ctx, `SELECT EXISTS (
  SELECT FROM outbox.event e
  WHERE e.aggregate_id = $2 AND (e.tx_id, e.event_id) > (
    SELECT c.tx_id, c.event_id FROM `+c.cfg.CursorTable+` c
    WHERE c.name = $1 AND c.partition = `+c.partitionOf("$2::uuid")+`)
    AND e.event_type = ANY($3))`, c.cfg.Name, aggregate, types).Scan(&behind)
	if err != nil {
		return false, fmt.Errorf("outbox: look for pending events: %w", err)
	}
	return behind, nil
}
