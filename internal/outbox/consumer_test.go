package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func setup(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE public.cursor `+outbox.CursorColumns); err != nil {
		t.Fatal(err)
	}
	return pool
}

func write(t *testing.T, q interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}, mission string, payload proto.Message) {
	t.Helper()
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: "test", AggregateID: uuid.New(), Mission: mission, Payload: payload}}); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := q.SendBatch(context.Background(), b).Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConsumerAppliesInCommitOrderAndMissesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)

	var mu sync.Mutex
	var seen []string
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", BatchSize: 2,
		Types: []string{"passage.intake.v1.CaseRegistered"},
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
			m, err := r.Decode()
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, m.(*intakev1.CaseRegistered).GetCase().GetCaseId())
			return nil
		},
	})

	// A transaction opens first and commits last: its event must not be skipped.
	late, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	write(t, late, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "late"}})
	for _, id := range []string{"a", "b", "c"} {
		write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: id}})
	}
	write(t, pool, "NER", &intakev1.CaseClosed{Case: &intakev1.Case{CaseId: "unwanted"}})

	// While the late transaction is open, nothing after it is read.
	if n, err := c.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("drain with an open older transaction = %d, %v; want 0", n, err)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Any transaction running anywhere in the cluster (another test's CREATE DATABASE, say)
	// holds the horizon back for a moment: drain until the four events are through.
	total := 0
	for deadline := time.Now().Add(10 * time.Second); total < 4 && time.Now().Before(deadline); {
		n, err := c.Drain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if total < 4 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if total != 4 {
		t.Fatalf("drained %d events, want 4", total)
	}
	if diff := cmp.Diff([]string{"late", "a", "b", "c"}, seen); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
	// Nothing is applied twice.
	if n, err := c.Drain(ctx); err != nil || n != 0 {
		t.Errorf("second drain = %d, %v; want 0", n, err)
	}
}

func TestConsumerRetriesAFailedEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)
	write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "x"}})
	fail := true
	applied := 0
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
			if fail {
				return context.DeadlineExceeded
			}
			applied++
			return nil
		},
	})
	var err error
	for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, err = c.Drain(ctx)
	}
	if err == nil {
		t.Fatal("a failing handler did not fail the drain")
	}
	fail = false
	for deadline := time.Now().Add(10 * time.Second); applied == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := c.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Drain(ctx); err != nil || applied != 1 {
		t.Errorf("after the failure: %v, applied %d times; want once", err, applied)
	}
}

func TestConsumerRunStopsWithContext(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	got := make(chan struct{}, 1)
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"}, PollInterval: 10 * time.Millisecond,
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error { got <- struct{}{}; return nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "x"}})
	<-got
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v after cancel, want nil", err)
	}
}

func TestConsumerCatchUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)
	applied := 0
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error { applied++; return nil },
	})
	// An older transaction holds the horizon back for a while, then ends.
	older, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := older.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "x"}})
	go func() {
		time.Sleep(100 * time.Millisecond)
		older.Rollback(ctx) //nolint:errcheck // ending it is all that matters
	}()
	if err := c.CatchUp(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("CatchUp applied %d events, want 1", applied)
	}
}

// TestConsumerBehind: Behind sees an event of a wanted type about the aggregate past the
// cursor, and nothing once the consumer applied it; other aggregates and types do not count.
func TestConsumerBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseClosed"},
		Handle: func(context.Context, pgx.Tx, outbox.Record) error { return nil },
	})
	id, other := uuid.New(), uuid.New()
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{
		{Producer: "test", AggregateID: id, Mission: "NER", Payload: &intakev1.CaseClosed{}},
		{Producer: "test", AggregateID: other, Mission: "NER", Payload: &intakev1.CaseRegistered{}},
	}); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	closed := []string{"passage.intake.v1.CaseClosed"}
	for _, tt := range []struct {
		name      string
		aggregate uuid.UUID
		types     []string
		want      bool
	}{
		{"the aggregate's wanted event", id, closed, true},
		{"another aggregate", other, closed, false},
		{"another type", id, []string{"passage.intake.v1.CaseRegistered"}, false},
	} {
		if got, err := c.Behind(ctx, tt.aggregate, tt.types); err != nil || got != tt.want {
			t.Errorf("%s: Behind = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if err := c.CatchUp(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Behind(ctx, id, closed); err != nil || got {
		t.Errorf("after CatchUp: Behind = %v, %v; want false", got, err)
	}
}

// TestConsumerOrdersTransactionIDsAsNumbers: transaction ids are compared as numbers, not as
// their text ("10" sorts before "9"): events stamped 9 and 10 are applied 9 first, and a
// batch boundary between them skips neither. The events are written by the owner with
// explicit ids, far below the horizon, the later id first.
func TestConsumerOrdersTransactionIDsAsNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)
	for _, e := range []struct{ tx, id string }{{"10", "ten"}, {"9", "nine"}, {"100", "hundred"}} {
		payload, err := proto.Marshal(&intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: e.id}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload, tx_id)
VALUES ('test', 'passage.intake.v1.CaseRegistered', $1, 'NER', $2, $3::text::xid8)`, uuid.New(), payload, e.tx); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", BatchSize: 1,
		Types: []string{"passage.intake.v1.CaseRegistered"},
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
			m, err := r.Decode()
			if err != nil {
				return err
			}
			seen = append(seen, m.(*intakev1.CaseRegistered).GetCase().GetCaseId())
			return nil
		},
	})
	if _, err := c.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"nine", "ten", "hundred"}, seen); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}

// The batch handler gets a drain's wanted events together, in commit order, and nothing twice.
func TestConsumerBatchHandlerGetsADrainInCommitOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)
	for _, id := range []string{"a", "b"} {
		write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: id}})
	}
	write(t, pool, "DEU", &intakev1.CaseClosed{Case: &intakev1.Case{CaseId: "unwanted"}})
	write(t, pool, "DEU", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "c"}})

	var batches [][]string
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		Handle: func(context.Context, pgx.Tx, outbox.Record) error {
			t.Error("a batch that succeeded was applied one event at a time")
			return nil
		},
		HandleBatch: func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
			var ids []string
			for _, r := range records {
				m, err := r.Decode()
				if err != nil {
					return err
				}
				ids = append(ids, r.Mission+"/"+m.(*intakev1.CaseRegistered).GetCase().GetCaseId())
			}
			batches = append(batches, ids)
			return nil
		},
	})
	total := 0
	for deadline := time.Now().Add(10 * time.Second); total < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, err := c.Drain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	var got []string
	for _, b := range batches {
		got = append(got, b...)
	}
	if diff := cmp.Diff([]string{"NER/a", "NER/b", "DEU/c"}, got); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
	if n, err := c.Drain(ctx); err != nil || n != 0 {
		t.Errorf("second drain = %d, %v; want 0", n, err)
	}
}

// A batch that fails is rolled back, and its events are applied one at a time: those before a
// failing event commit with the cursor just before it, it and those after it are offered
// again, and nothing is applied twice, neither the batch's writes nor the single ones.
func TestConsumerBatchFailureHoldsBackOnlyTheFailingEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := setup(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE public.applied (case_id text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "poison", "c"} {
		write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: id}})
	}
	poisoned := true
	apply := func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
		m, err := r.Decode()
		if err != nil {
			return err
		}
		id := m.(*intakev1.CaseRegistered).GetCase().GetCaseId()
		if id == "poison" && poisoned {
			return errors.New("poisoned")
		}
		// A second insert of one case fails on the key: nothing may be applied twice.
		_, err = tx.Exec(ctx, `INSERT INTO public.applied VALUES ($1)`, id)
		return err
	}
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		Handle: apply,
		HandleBatch: func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
			for _, r := range records {
				if err := apply(ctx, tx, r); err != nil {
					return err
				}
			}
			return nil
		},
	})
	applied := func() []string {
		rows, err := pool.Query(ctx, `SELECT case_id FROM public.applied ORDER BY case_id`)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	var err error
	total := 0
	for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var n int
		n, err = c.Drain(ctx)
		total += n
	}
	if err == nil || total != 2 {
		t.Fatalf("drain over a failing event = %d applied, %v; want 2 and its error", total, err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, applied()); diff != "" {
		t.Errorf("applied before the failing event (-want +got):\n%s", diff)
	}
	if n, err := c.Drain(ctx); err == nil || n != 0 {
		t.Errorf("drain again = %d, %v; want the same failure, nothing applied", n, err)
	}
	poisoned = false
	if n, err := c.Drain(ctx); err != nil || n != 2 {
		t.Errorf("drain once the event applies = %d, %v; want 2", n, err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "poison"}, applied()); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}
