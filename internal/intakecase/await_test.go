package intakecase_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

var errMissing = errors.New("case not found")

func missing(err error) bool { return errors.Is(err, errMissing) }

// projection is a service's view of intake's cases, kept by a real consumer of a real outbox.
type projection struct {
	pool     *pgxpool.Pool
	consumer *outbox.Consumer
	mu       sync.Mutex
	cases    map[string]bool
}

func newProjection(t *testing.T) *projection {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE public.cursor `+outbox.CursorColumns); err != nil {
		t.Fatal(err)
	}
	p := &projection{pool: pool, cases: map[string]bool{}}
	p.consumer = outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Types: intakecase.Events,
		Handle: func(_ context.Context, _ pgx.Tx, r outbox.Record) error {
			m, err := r.Decode()
			if err != nil {
				return err
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			p.cases[intakecase.Of(m).GetCaseId()] = true
			return nil
		},
	})
	return p
}

// register commits intake's event for a new case.
func (p *projection) register(t *testing.T) uuid.UUID {
	t.Helper()
	id := uuid.New()
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: "intake", AggregateID: id, Mission: "NER",
		Payload: &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: id.String()}}}}); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := p.pool.SendBatch(context.Background(), b).Close(); err != nil {
		t.Fatal(err)
	}
	return id
}

// read is the service's read of a case: a miss unless the projection holds it.
func (p *projection) read(id uuid.UUID, reads *int) func() error {
	return func() error {
		*reads++
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.cases[id.String()] {
			return errMissing
		}
		return nil
	}
}

// holdHorizon begins a transaction with an id, so that no later commit is readable by the
// consumer until it ends (as another session's long transaction does); it ends with the test.
func holdHorizon(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) }) //nolint:errcheck // ending it is all that matters
}

func TestAwait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a case registered a moment ago is found after one catch-up", func(t *testing.T) {
		t.Parallel()
		p := newProjection(t)
		id := p.register(t)
		reads := 0
		if err := intakecase.Await(ctx, p.consumer, id, 10*time.Second, missing, p.read(id, &reads)); err != nil {
			t.Fatalf("Await = %v, want the case", err)
		}
		if reads != 2 {
			t.Errorf("%d reads, want 2 (a miss, then the catch-up's hit)", reads)
		}
		// Applied now: the next read needs no catch-up.
		reads = 0
		if err := intakecase.Await(ctx, p.consumer, id, 10*time.Second, missing, p.read(id, &reads)); err != nil || reads != 1 {
			t.Errorf("second Await = %v after %d reads, want the case at the first", err, reads)
		}
	})

	t.Run("a case whose event stays out of reach is not applied yet, not missing", func(t *testing.T) {
		t.Parallel()
		p := newProjection(t)
		holdHorizon(t, p.pool)
		id := p.register(t)
		reads := 0
		err := intakecase.Await(ctx, p.consumer, id, 200*time.Millisecond, missing, p.read(id, &reads))
		if !errors.Is(err, intakecase.ErrNotApplied) {
			t.Fatalf("Await = %v, want ErrNotApplied", err)
		}
		if st, _ := status.FromError(intakecase.StatusOf("test", err)); st.Code() != codes.Unavailable {
			t.Errorf("StatusOf = %v, want UNAVAILABLE", st)
		}
	})

	t.Run("a case intake never registered is missing", func(t *testing.T) {
		t.Parallel()
		p := newProjection(t)
		p.register(t) // another case's event, applied by the catch-up
		id, reads := uuid.New(), 0
		err := intakecase.Await(ctx, p.consumer, id, 10*time.Second, missing, p.read(id, &reads))
		if !errors.Is(err, errMissing) {
			t.Fatalf("Await = %v, want the read's own not-found", err)
		}
		if intakecase.StatusOf("test", err) != nil {
			t.Errorf("StatusOf(%v) = %v, want nil", err, intakecase.StatusOf("test", err))
		}
	})
}
