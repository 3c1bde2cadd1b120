package projectiontest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
)

// DB is a migrated database of its own: Owner writes intake's events as intake would and
// reads every mission's rows; Pool is connected as the consuming service's role.
type DB struct {
	Owner *pgxpool.Pool
	Pool  *pgxpool.Pool
}

// New returns a database of its own for the service connecting as role.
func New(t testing.TB, role string) *DB {
	t.Helper()
	admin := pgtest.New(t)
	owner, err := pgxpool.New(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	pool, err := database.Open(context.Background(), database.PoolConfig{AdminURL: admin, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &DB{Owner: owner, Pool: pool}
}

// Event is one of intake's events about a case, recorded under Mission (intake records it
// under its case's mission; a test may say otherwise, to see row-level security refuse it).
type Event struct {
	Mission string
	Payload proto.Message // a CaseRegistered, CaseUpdated, ...
}

// Recorded is e recorded under its case's own mission, as intake records it.
func Recorded(e proto.Message) Event {
	return Event{Mission: intakecase.Of(e).GetMission(), Payload: e}
}

// Emit records events in one transaction, in the order given: they commit together, so the
// next drain reads all of them (the outbox is read in commit order, behind the oldest running
// transaction of the cluster, which another test may hold back a moment but never split).
func (d *DB) Emit(t testing.TB, events ...Event) {
	t.Helper()
	out := make([]outbox.Event, len(events))
	for i, e := range events {
		id, err := uuid.Parse(intakecase.Of(e.Payload).GetCaseId())
		if err != nil {
			t.Fatal(err)
		}
		out[i] = outbox.Event{Producer: "intake", AggregateID: id, Mission: e.Mission, Payload: e.Payload}
	}
	var st database.Statement
	if err := outbox.Add(&st, out); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	err := pgx.BeginFunc(context.Background(), d.Owner, func(tx pgx.Tx) error {
		return tx.SendBatch(context.Background(), b).Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Drain drains c until it has applied want events, or fails, or 10 s have passed: the outbox
// is read only behind the oldest transaction in the cluster, which other tests may hold back.
// It returns the events applied and the first error.
func Drain(t testing.TB, c *outbox.Consumer, want int) (int, error) {
	t.Helper()
	total := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, err := c.Drain(context.Background())
		total += n
		if err != nil || total >= want {
			return total, err
		}
	}
	return total, nil
}

// Rows runs query as the owner (every mission's rows) and returns each row as the JSON text
// of its single column (e.g. to_jsonb(x)), in the query's order.
func (d *DB) Rows(t testing.TB, query string, args ...any) []string {
	t.Helper()
	return collect(t, d, pgx.RowTo[string], query, args...)
}

// Collect runs query as the owner (every mission's rows) and returns its rows as T, column by
// column in T's field order, in the query's order.
func Collect[T any](t testing.TB, d *DB, query string, args ...any) []T {
	t.Helper()
	return collect(t, d, pgx.RowToStructByPos[T], query, args...)
}

func collect[T any](t testing.TB, d *DB, row pgx.RowToFunc[T], query string, args ...any) []T {
	t.Helper()
	rows, err := d.Owner.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, row)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Compare writes each drain's events and drains them on two databases of the service connecting
// as role: on one, cfg's consumer applies every drain with its HandleBatch alone (a fallback to
// one event at a time fails the test, and so does a drain applied in more than one batch); on
// the other, the same consumer without HandleBatch applies one event at a time. It fails the
// test unless rows reads the same from both, and returns the batched database.
func Compare(t *testing.T, role string, cfg outbox.ConsumerConfig, rows func(testing.TB, *DB) []string, drains ...[]Event) *DB {
	t.Helper()
	batched, single := New(t, role), New(t, role)
	cfg.Partitions = 1 // see onePartition
	batch := cfg.HandleBatch
	var batches []int
	cfg.HandleBatch = func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
		batches = append(batches, len(records))
		return batch(ctx, tx, records)
	}
	one := cfg
	one.HandleBatch = nil
	cfg.Handle = func(context.Context, pgx.Tx, outbox.Record) error {
		t.Error("the batch failed and fell back to one event at a time")
		return nil
	}
	batchedConsumer, singleConsumer := outbox.NewConsumer(batched.Pool, cfg), outbox.NewConsumer(single.Pool, one)
	for i, events := range drains {
		batches = nil
		batched.Emit(t, events...)
		if n, err := Drain(t, batchedConsumer, len(events)); err != nil || n != len(events) {
			t.Fatalf("drain %d batched = %d, %v; want %d applied", i, n, err, len(events))
		}
		if !slices.Equal(batches, []int{len(events)}) {
			t.Errorf("drain %d: batches of %v events; want one of %d", i, batches, len(events))
		}
		single.Emit(t, events...)
		if n, err := Drain(t, singleConsumer, len(events)); err != nil || n != len(events) {
			t.Fatalf("drain %d one at a time = %d, %v; want %d applied", i, n, err, len(events))
		}
	}
	if diff := cmp.Diff(rows(t, single), rows(t, batched)); diff != "" {
		t.Errorf("batched projection differs from one event at a time (-single +batched):\n%s", diff)
	}
	return batched
}
