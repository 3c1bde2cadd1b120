package outbox_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/projectiontest"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const registered = "passage.intake.v1.CaseRegistered"

// writeSequences writes, in one transaction, events 1..perAggregate about each of
// aggregates, interleaved (every aggregate's first event, then every second, ...): each
// event's case id is its number in its aggregate's sequence.
func writeSequences(t testing.TB, q interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}, aggregates []uuid.UUID, perAggregate int) {
	t.Helper()
	var events []outbox.Event
	for seq := 1; seq <= perAggregate; seq++ {
		for _, a := range aggregates {
			events = append(events, outbox.Event{Producer: "test", AggregateID: a, Mission: "NER",
				Payload: &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: strconv.Itoa(seq)}}})
		}
	}
	for len(events) > 0 {
		n := min(len(events), 5000)
		var st database.Statement
		if err := outbox.Add(&st, events[:n]); err != nil {
			t.Fatal(err)
		}
		b := &pgx.Batch{}
		st.Queue(b)
		if err := q.SendBatch(context.Background(), b).Close(); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
}

func aggregates(n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	return ids
}

// sequences records each aggregate's applied event numbers in the order applied.
type sequences struct {
	mu   sync.Mutex
	seen map[uuid.UUID][]int
}

func (s *sequences) handle(_ context.Context, _ pgx.Tx, r outbox.Record) error {
	m, err := r.Decode()
	if err != nil {
		return err
	}
	seq, err := strconv.Atoi(m.(*intakev1.CaseRegistered).GetCase().GetCaseId())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[uuid.UUID][]int{}
	}
	s.seen[r.AggregateID] = append(s.seen[r.AggregateID], seq)
	return nil
}

// check fails t unless every aggregate's events from..to were applied once, in order.
func (s *sequences) check(t *testing.T, ids []uuid.UUID, from, to int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var want []int
	for i := from; i <= to; i++ {
		want = append(want, i)
	}
	for _, a := range ids {
		if got := s.seen[a]; !slices.Equal(got, want) {
			t.Fatalf("aggregate %s applied %v, want %v", a, got, want)
		}
	}
}

func drainAll(t *testing.T, c *outbox.Consumer, want int) {
	t.Helper()
	if n, err := projectiontest.Drain(t, c, want); err != nil || n != want {
		t.Fatalf("applied %d events (%v), want %d", n, err, want)
	}
}

// sequenced returns a database holding events 1..perAggregate of n aggregates, and a
// projection recording what is applied.
func sequenced(t *testing.T, n, perAggregate int) (*pgxpool.Pool, []uuid.UUID, *sequences) {
	t.Helper()
	pool := setup(t)
	ids := aggregates(n)
	writeSequences(t, pool, ids, perAggregate)
	return pool, ids, &sequences{}
}

func TestPartitionsKeepEachAggregatesEventsInOrder(t *testing.T) {
	t.Parallel()
	pool, ids, s := sequenced(t, 40, 5)
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{Name: "test", CursorTable: "public.cursor", BatchSize: 7,
		Partitions: 16, Types: []string{registered}, Handle: s.handle})
	drainAll(t, c, 200)
	s.check(t, ids, 1, 5)
	var used int
	if err := pool.QueryRow(context.Background(), `SELECT count(DISTINCT outbox.partition_of(aggregate_id, 16)) FROM outbox.event`).Scan(&used); err != nil || used < 8 {
		t.Errorf("40 aggregates fall in %d of 16 partitions (%v); want them spread", used, err)
	}
}

func TestOneCursorSpreadsIntoPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ids, s := sequenced(t, 20, 2)
	cfg := outbox.ConsumerConfig{Name: "test", CursorTable: "public.cursor", Types: []string{registered}, Handle: s.handle}
	drainAll(t, outbox.NewConsumer(pool, cfg), 40)

	// More events, then the consumer restarts with 16 partitions: each starts where the one
	// cursor stood, so only the new events are applied, once each.
	var st database.Statement
	var events []outbox.Event
	for _, a := range ids {
		events = append(events, outbox.Event{Producer: "test", AggregateID: a, Mission: "NER",
			Payload: &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "3"}}})
	}
	if err := outbox.Add(&st, events); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Partitions = 16
	drainAll(t, outbox.NewConsumer(pool, cfg), 20)
	s.check(t, ids, 1, 3)
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM public.cursor WHERE name = 'test' AND partitions = 16`).Scan(&rows); err != nil || rows != 16 {
		t.Errorf("partition rows recording the count 16 = %d (%v); want 16", rows, err)
	}

	// Sixteen partitions cannot become eight.
	cfg.Partitions = 8
	if _, err := outbox.NewConsumer(pool, cfg).Drain(ctx); err == nil {
		t.Error("drain with 8 partitions after 16: no error")
	}
}

// replicas returns n consumers of one name, as n replicas would run them.
func replicas(pool *pgxpool.Pool, n int, handle outbox.Handler) []*outbox.Consumer {
	cs := make([]*outbox.Consumer, n)
	for i := range cs {
		cs[i] = outbox.NewConsumer(pool, outbox.ConsumerConfig{Name: "test", CursorTable: "public.cursor",
			Partitions: 16, Types: []string{registered}, Handle: handle})
	}
	return cs
}

func balance(t *testing.T, cs ...*outbox.Consumer) {
	t.Helper()
	for _, c := range cs {
		if err := c.Balance(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// shares returns how many partitions each consumer leases, after checking that no partition
// is leased twice.
func shares(t *testing.T, cs ...*outbox.Consumer) []int {
	t.Helper()
	seen := map[int]int{}
	var out []int
	for i, c := range cs {
		for _, p := range c.Leases() {
			if j, ok := seen[p]; ok {
				t.Fatalf("partition %d leased by replicas %d and %d", p, j, i)
			}
			seen[p] = i
		}
		out = append(out, len(c.Leases()))
	}
	return out
}

func TestReplicasBalanceTheirShares(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	var s sequences
	cs := replicas(pool, 3, s.handle)
	a, b, c := cs[0], cs[1], cs[2]

	balance(t, a)
	if got := shares(t, a); !slices.Equal(got, []int{16}) {
		t.Fatalf("one replica leases %v, want [16]", got)
	}
	balance(t, b, a)
	if got := shares(t, a, b); !slices.Equal(got, []int{8, 8}) {
		t.Fatalf("two replicas lease %v, want [8 8]", got)
	}
	balance(t, c, a, b)
	if got := shares(t, a, b, c); !slices.Equal(got, []int{6, 6, 4}) {
		t.Fatalf("three replicas lease %v, want [6 6 4]", got)
	}
	// A second round changes nothing: the shares are stable.
	balance(t, a, b, c)
	if got := shares(t, a, b, c); !slices.Equal(got, []int{6, 6, 4}) {
		t.Fatalf("three replicas lease %v after another round, want [6 6 4]", got)
	}
}

// expire ends every lease of the consumer "test" now, as if their holders had stalled or died.
func expire(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `UPDATE public.cursor SET lease_until = now() - interval '1 second' WHERE name = 'test'`); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredLeasesAreTakenOverAndFenced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ids, s := sequenced(t, 30, 2)
	cs := replicas(pool, 2, s.handle)
	stalled, live := cs[0], cs[1]
	balance(t, stalled)

	// The first replica stalls: its leases expire and the second takes every partition over.
	expire(t, pool)
	balance(t, live)
	if got := shares(t, live); !slices.Equal(got, []int{16}) {
		t.Fatalf("after the expiry the live replica leases %v, want [16]", got)
	}
	// The stalled replica wakes up still believing it holds 16 partitions: the fence stops
	// every drain it tries, and it learns it holds none.
	if n, err := stalled.DrainLeased(ctx); err != nil || n != 0 {
		t.Fatalf("stalled replica's drain = %d, %v; want 0, nil", n, err)
	}
	if got := stalled.Leases(); len(got) != 0 {
		t.Fatalf("stalled replica still leases %v", got)
	}
	total := 0
	for total < 60 {
		n, err := live.DrainLeased(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	s.check(t, ids, 1, 2)
}

func TestALeaseIsNotTakenWhileItsDrainRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ids, s := sequenced(t, 1, 3)
	entered, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := outbox.NewConsumer(pool, outbox.ConsumerConfig{Name: "test", CursorTable: "public.cursor", Partitions: 16,
		Types: []string{registered}, Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
			once.Do(func() {
				close(entered)
				<-resume
			})
			return s.handle(ctx, tx, r)
		}})
	other := replicas(pool, 1, s.handle)[0]
	// The other replica has found its cursor rows before the drain holds one (partition 0's
	// row, which a first look-up locks, may be the drain's).
	if _, err := other.Behind(ctx, ids[0], []string{registered}); err != nil {
		t.Fatal(err)
	}
	balance(t, slow)
	// The lease expires while the slow drain is about to start: it still holds it (nobody
	// took it), so the drain goes ahead.
	expire(t, pool)
	done := make(chan error, 1)
	go func() {
		// A drain reads only below the cluster's oldest running transaction (commit order), and
		// the other tests' transactions may hold that back for a moment: drain until the events
		// are in reach (nobody takes the lease meanwhile; the other replica has not balanced).
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			n, err := slow.DrainLeased(ctx)
			if err != nil || n > 0 {
				done <- err
				return
			}
			if time.Now().After(deadline) {
				done <- errors.New("the slow replica's drains applied nothing for 20 s")
				return
			}
		}
	}()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("the drain ended before its handler ran: %v", err)
	}
	// The drain holds its partition's row, mid-transaction, its lease expired: the other
	// replica takes every partition but that one, and the drain commits.
	balance(t, other)
	if got := shares(t, other); !slices.Equal(got, []int{15}) {
		t.Fatalf("other replica leases %v while a drain runs, want [15]", got)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.check(t, ids, 1, 3)
	if n, err := other.Drain(ctx); err != nil || n != 0 {
		t.Errorf("drain after the slow one = %d, %v; want 0", n, err)
	}
}

// TestPartitionOfAgreesWithTheDatabase: the consumer computes a case's partition in Go
// (CatchUpOn) and in SQL (outbox.partition_of, every drain); both must name the same one.
func TestPartitionOfAgreesWithTheDatabase(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	ids := aggregates(500)
	ids = append(ids, uuid.New(), uuid.Nil, uuid.Max)
	for _, n := range []int{1, 7, 16} {
		var want []int
		if err := pool.QueryRow(context.Background(), `SELECT array_agg(outbox.partition_of(a, $2) ORDER BY n)
FROM unnest($1::uuid[]) WITH ORDINALITY AS x(a, n)`, ids, n).Scan(&want); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if got := outbox.PartitionOf(id, n); got != want[i] {
				t.Fatalf("PartitionOf(%s, %d) = %d, the database says %d", id, n, got, want[i])
			}
		}
	}
}

// TestCatchUpOnDrainsTheCasesPartitionOnly: a request about one case catches up on that
// case's partition, in order, and leaves the other partitions to their replicas.
func TestCatchUpOnDrainsTheCasesPartitionOnly(t *testing.T) {
	t.Parallel()
	pool, ids, s := sequenced(t, 40, 3)
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{Name: "test", CursorTable: "public.cursor",
		Partitions: 16, Types: []string{registered}, Handle: s.handle})
	target := ids[0]
	if err := c.CatchUpOn(context.Background(), target, time.Minute); err != nil {
		t.Fatal(err)
	}
	s.check(t, ids[:1], 1, 3)
	behind, err := c.Behind(context.Background(), target, []string{registered})
	if err != nil || behind {
		t.Fatalf("Behind after CatchUpOn = %v, %v; want false", behind, err)
	}
	for _, id := range ids[1:] {
		applied := len(s.seen[id]) > 0
		if same := outbox.PartitionOf(id, 16) == outbox.PartitionOf(target, 16); applied != same {
			t.Errorf("aggregate %s (partition %d, the case's %d) applied: %v", id,
				outbox.PartitionOf(id, 16), outbox.PartitionOf(target, 16), applied)
		}
	}
}

// TestAReplicaDrainsOnlyItsDuePartitions: a replica leasing every partition drains those
// with events and opens no transaction on the others (their cursors' rows stay unlocked and
// unmoved), and an idle replica applies nothing.
func TestAReplicaDrainsOnlyItsDuePartitions(t *testing.T) {
	t.Parallel()
	pool, ids, s := sequenced(t, 3, 2)
	c := replicas(pool, 1, s.handle)[0]
	balance(t, c)
	if got := len(c.Leases()); got != 16 {
		t.Fatalf("one replica leases %d partitions, want 16", got)
	}
	ctx := context.Background()
	// Other tests' transactions hold the cluster's horizon back for a while: drain until the
	// six events are visible and applied.
	for total := 0; total < 6; {
		n, err := c.DrainLeased(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	s.check(t, ids, 1, 2)
	if n, err := c.DrainLeased(ctx); err != nil || n != 0 {
		t.Fatalf("an idle DrainLeased applied %d (%v), want 0", n, err)
	}
	var moved int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM public.cursor WHERE event_id > 0`).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	due := map[int]bool{}
	for _, id := range ids {
		due[outbox.PartitionOf(id, 16)] = true
	}
	if moved != len(due) {
		t.Errorf("%d cursors moved, want the %d partitions that held events", moved, len(due))
	}
}

// A failing event makes Run pause its partition twice as long after each failure, while the
// other partitions are drained and the leases renewed every LeaseTTL/5 (Run's one pause was
// once held to LeaseTTL/5, retrying a poison event every second).
func TestRunBacksOffAFailingPartitionAlone(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	poison, healthy := uuid.New(), uuid.New()
	for outbox.PartitionOf(healthy, 16) == outbox.PartitionOf(poison, 16) {
		healthy = uuid.New()
	}
	var mu sync.Mutex
	var tries []time.Time
	applied := false
	var logs syncBuffer
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "test", CursorTable: "public.cursor", Partitions: 16, Types: []string{registered},
		PollInterval: 100 * time.Millisecond, LeaseTTL: time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Handle: func(_ context.Context, _ pgx.Tx, r outbox.Record) error {
			mu.Lock()
			defer mu.Unlock()
			if r.AggregateID == healthy {
				applied = true
				return nil
			}
			tries = append(tries, time.Now())
			return errors.New("poison")
		},
	})
	writeSequences(t, pool, []uuid.UUID{poison}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	// Other tests' transactions may hold the horizon back a moment: wait for the first try.
	first := func() (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(tries) == 0 {
			return time.Time{}, false
		}
		return tries[0], true
	}
	deadline := time.Now().Add(10 * time.Second)
	start, ok := first()
	for ; !ok && time.Now().Before(deadline); start, ok = first() {
		time.Sleep(10 * time.Millisecond)
	}
	if !ok {
		t.Fatal("the event was never tried")
	}
	const window = 2500 * time.Millisecond
	time.Sleep(time.Until(start.Add(window)))

	// Pauses of 200, 400 and 800 ms after the first try: 4 tries in the window (13 at one pause
	// of LeaseTTL/5).
	mu.Lock()
	n := 0
	for _, at := range tries {
		if at.Sub(start) < window {
			n++
		}
	}
	mu.Unlock()
	if n > 6 {
		t.Errorf("the failing event was tried %d times in %s, want at most 6", n, window)
	}
	var leased int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM public.cursor
WHERE name = 'test' AND holder IS NOT NULL AND lease_until > clock_timestamp()`).Scan(&leased); err != nil {
		t.Fatal(err)
	}
	if leased != 16 {
		t.Errorf("%d of 16 leases live while a partition paused", leased)
	}
	// Another partition's event is applied meanwhile.
	writeSequences(t, pool, []uuid.UUID{healthy}, 1)
	isApplied := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return applied
	}
	for deadline := time.Now().Add(10 * time.Second); !isApplied(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("another partition's event was not applied while the failing one paused")
		}
	}
	// The failure was logged once at ERROR: it goes on (the next line is due after 30 s), and
	// the drains of the other partitions between its tries are no recovery.
	if n := strings.Count(logs.String(), `"level":"ERROR","msg":"outbox consumer failed"`); n != 1 {
		t.Errorf("%d ERROR lines say the consumer failed, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "outbox consumer recovered") {
		t.Errorf("the consumer logged a recovery while its failing partition still failed:\n%s", logs.String())
	}
}
