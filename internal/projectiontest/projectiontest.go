package projectiontest

import (
	"context"
	"testing"
	"time"

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
	b := &pgx.Batch{}
	for _, e := range events {
		id, err := uuid.Parse(intakecase.Of(e.Payload).GetCaseId())
		if err != nil {
			t.Fatal(err)
		}
		if err := outbox.Queue(b, outbox.Event{Producer: "intake", AggregateID: id, Mission: e.Mission, Payload: e.Payload}); err != nil {
			t.Fatal(err)
		}
	}
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
	rows, err := d.Owner.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}
