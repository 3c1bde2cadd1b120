package testserver

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
)

// Event is one outbox event read back by a test, its payload decoded.
type Event struct {
	// Type is the payload's full message name, e.g. "passage.intake.v1.CaseRegistered".
	Type string
	// Mission owns the aggregate the event is about.
	Mission string
	// Payload is the decoded event message.
	Payload proto.Message
}

// Emit writes an event of producer's into the outbox under mission, about aggregate, as that
// producer's service records it, for the consumers to apply: a test's stand-in for a service
// it does not run (the hand-overs that intake's consumer applies, say).
func (e *Env) Emit(t testing.TB, producer, mission string, aggregate uuid.UUID, payload proto.Message) {
	t.Helper()
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: aggregate, Mission: mission, Payload: payload}}); err != nil {
		t.Fatal(err)
	}
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		batch := &pgx.Batch{}
		st.Queue(batch)
		if err := conn.SendBatch(ctx, batch).Close(); err != nil {
			t.Fatalf("write %s: %v", proto.MessageName(payload), err)
		}
	})
}

// AsOwner runs fn on a connection of its own as the database owner, who sees past every
// service's grants and row-level security; the connection is closed when fn returns.
func (e *Env) AsOwner(t testing.TB, fn func(ctx context.Context, conn *pgx.Conn)) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.AdminURL)
	if err != nil {
		t.Fatalf("connect as owner: %v", err)
	}
	defer conn.Close(ctx)
	fn(ctx, conn)
}

// QueryInt returns the single integer a query returns, read as the database owner. sql is
// the test's own, never input.
func (e *Env) QueryInt(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	})
	return n
}

// ExecAsOwner runs a statement of the test's own as the database owner, e.g. to take a
// safeguard away and show what it was holding back.
func (e *Env) ExecAsOwner(t testing.TB, sql string, args ...any) {
	t.Helper()
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	})
}

// Count returns the number of rows of a table, read as the database owner. table is what
// follows FROM, so it may carry a join or a WHERE clause ("outbox.event WHERE mission <> 'THA'").
func (e *Env) Count(t testing.TB, table string) int {
	t.Helper()
	return e.QueryInt(t, "SELECT count(*) FROM "+table)
}

// RowCounts returns the row counts of tables, keyed by the names as given, all read on one
// connection. Taken before and after a refused call, equal counts prove it wrote nothing. A
// name may carry a WHERE clause ("outbox.event WHERE producer = 'intake'") to count only the
// rows the call could have written while other services keep writing theirs.
func (e *Env) RowCounts(t testing.TB, tables ...string) map[string]int {
	t.Helper()
	out := make(map[string]int, len(tables))
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		for _, table := range tables {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			out[table] = n
		}
	})
	return out
}

// Events returns the events producer wrote to the outbox, in the order they were written.
func (e *Env) Events(t testing.TB, producer string) []Event {
	t.Helper()
	return e.events(t, `SELECT event_id, event_type, mission, payload FROM outbox.event
WHERE producer = $1 ORDER BY event_id`, producer)
}

// AggregateEvents returns the events producer wrote to the outbox about one aggregate (a
// case), in the order they were written.
func (e *Env) AggregateEvents(t testing.TB, producer, aggregateID string) []Event {
	t.Helper()
	return e.events(t, `SELECT event_id, event_type, mission, payload FROM outbox.event
WHERE producer = $1 AND aggregate_id = $2 ORDER BY event_id`, producer, aggregateID)
}

func (e *Env) events(t testing.TB, sql string, args ...any) []Event {
	t.Helper()
	var out []Event
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("read the outbox: %v", err)
		}
		var r outbox.Record
		if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Type, &r.Mission, &r.Payload}, func() error {
			m, err := r.Decode()
			if err != nil {
				return err
			}
			out = append(out, Event{Type: r.Type, Mission: r.Mission, Payload: m})
			return nil
		}); err != nil {
			t.Fatalf("read the outbox: %v", err)
		}
	})
	return out
}

// Payloads returns the decoded payloads of events, in the same order.
func Payloads(events []Event) []proto.Message {
	out := make([]proto.Message, 0, len(events))
	for _, ev := range events {
		out = append(out, ev.Payload)
	}
	return out
}

// QueryText returns the single text a query returns, read as the database owner. sql is the
// test's own, never input.
func (e *Env) QueryText(t testing.TB, sql string, args ...any) string {
	t.Helper()
	var s string
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	})
	return s
}
