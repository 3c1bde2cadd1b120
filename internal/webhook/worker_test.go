package webhook

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/passage-cm/passage/internal/egress"
)

// Every first delivery fails in one of the ways a partner fails (500, 429 with Retry-After, 503
// with a Retry-After date, no answer, a reset connection, a body echoing personal data), and
// the receiver still gets each event once in effect, in order per ordering key, each request
// signed.
func TestEachEventOnceInOrderDespiteFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clk := newClock()
	firsts := []action{fail500, tooMany, unavailable, hang, reset, echo, accept}
	var mu sync.Mutex
	index := map[string]int{}
	r := newReceiver(t, clk.Now, func(id string, n int) action {
		mu.Lock()
		defer mu.Unlock()
		i, ok := index[id]
		if !ok {
			i = len(index)
			index[id] = i
		}
		if n == 1 {
			return firsts[i%len(firsts)]
		}
		if n == 2 && i%3 == 0 {
			return fail500 // some fail twice
		}
		return accept
	})
	want := b.queue(t, "NER", keys(4), 7)
	b.drain(t, b.worker(r, clk, WorkerConfig{}), clk)
	// Duplicates are allowed (an answer that arrives after the timeout is sent again, with its
	// webhook-id); checkOnceInOrder checks they are only that.
	if dups := r.checkOnceInOrder(t, want); dups != 0 {
		t.Logf("%d duplicates, each of an id already received", dups)
	}
	if n := b.count(t, "state <> 'delivered'"); n != 0 {
		t.Errorf("%d deliveries not delivered", n)
	}
}

// A burst of deliveries over several keys, with the worker stopped in the middle (its context
// cancelled, as on SIGTERM) and another that crashed holding leases: after a restart nothing is
// lost, nothing arrives out of order, and a duplicate only ever repeats a webhook-id; no
// delivery leased by the crashed worker is sent before its lease ends.
func TestBurstSurvivesStopAndCrash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := newReceiver(t, time.Now, func(id string, n int) action {
		if n == 1 && id[0] < '6' { // about a third fail once
			return fail500
		}
		return accept
	})
	r.delay = time.Millisecond
	want := b.queue(t, "NER", keys(6), 50)
	total := 300

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.worker(r, nil, WorkerConfig{Concurrency: 4}).Run(ctx) }()
	waitFor(t, func() bool { return len(r.receipts()) >= total/3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stoppedAt := len(r.receipts())
	if stoppedAt >= total {
		t.Fatalf("the burst was over before the stop (%d received)", stoppedAt)
	}
	if n := b.count(t, "lease_token IS NOT NULL"); n != 0 {
		t.Errorf("a stopped worker left %d deliveries leased", n)
	}

	// A worker that crashed right after claiming: its leases stand until they end.
	crashAt := time.Now()
	leaseEnd := crashAt.Add(time.Second)
	var crashed []string
	rows, err := b.db.WebhookWorker("crashed").Query(context.Background(), claimSQL, time.Now(), 3, leaseEnd, uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	var c claimed
	if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.mission, &c.partner, &c.eventID, &c.body, &c.attempts,
		&c.sinceQueue, &c.createdAt, &c.queuedAt}, func() error { crashed = append(crashed, c.eventID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(crashed) == 0 {
		t.Fatal("nothing left to claim")
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- b.worker(r, nil, WorkerConfig{Concurrency: 4}).Run(ctx) }()
	waitFor(t, func() bool { return b.count(t, "state = 'delivered'") == total })
	cancel()
	<-done
	dups := r.checkOnceInOrder(t, want)
	t.Logf("stopped after %d of %d acknowledgements; %d duplicates (same webhook-id)", stoppedAt, total, dups)
	for _, rc := range r.receipts() {
		for _, id := range crashed {
			// (It may have been received before the stop, as a delivery whose outcome the
			// stopped worker never recorded.)
			if rc.id == id && rc.at.After(crashAt) && rc.at.Before(leaseEnd) {
				t.Errorf("delivery %s was sent while another worker's lease held it", id)
			}
		}
	}
}

// Two workers (replicas, pools of their own) share the queue: no delivery is ever in flight
// twice, and with a receiver that never fails each event arrives exactly once, in order.
func TestTwoWorkersNeverSendTheSameDeliveryAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := newReceiver(t, time.Now, func(string, int) action { return accept })
	r.delay = 2 * time.Millisecond
	want := b.queue(t, "NER", keys(20), 10)
	_, other := b.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// A generous timeout: an attempt that timed out after the receiver took it would be sent
	// again, rightly, and this test is about two workers, not about timeouts on a busy machine.
	cfg := WorkerConfig{Concurrency: 6, Timeout: 10 * time.Second}
	for _, w := range []*Worker{b.worker(r, nil, cfg), b.workerOn(other, r, nil, cfg)} {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	waitFor(t, func() bool { return b.count(t, "state = 'delivered'") == 200 })
	cancel()
	wg.Wait()
	if dups := r.checkOnceInOrder(t, want); dups != 0 {
		t.Errorf("%d events received twice", dups)
	}
	var attempts int
	b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM webhook.attempt`).Scan(&attempts); err != nil {
			t.Fatal(err)
		}
	})
	if attempts != 200 {
		t.Errorf("%d attempts recorded for 200 deliveries that never failed", attempts)
	}
}

// An attempt ends before its lease, however slow the partner look-up: the look-up and the
// request share one deadline, Timeout after the claim, which is LeaseMargin before the lease
// ends, so no other worker can take the delivery while the attempt runs. A look-up that
// overruns it is a timed-out attempt, retried.
func TestAttemptEndsBeforeItsLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.queue(t, "NER", keys(1), 1)
	const timeout, margin = 300 * time.Millisecond, 30 * time.Second
	var (
		deadline, leaseUntil time.Time
		hasDeadline          bool
	)
	slow := endpointFunc(func(ctx context.Context, _ string, _ uuid.UUID) (string, Secret, error) {
		deadline, hasDeadline = ctx.Deadline()
		b.owner(t, func(octx context.Context, conn *pgx.Conn) {
			if err := conn.QueryRow(octx, `SELECT lease_until FROM webhook.delivery`).Scan(&leaseUntil); err != nil {
				t.Error(err)
			}
		})
		if !hasDeadline {
			return "", Secret{}, errors.New("no deadline")
		}
		<-ctx.Done() // a registry that does not answer in time
		return "", Secret{}, ctx.Err()
	})
	w := NewWorker(b.db, slow, WorkerConfig{Timeout: timeout, LeaseMargin: margin, Jitter: func() float64 { return 1 }})
	n, err := w.DeliverDue(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("DeliverDue = %d, %v; want one attempt recorded", n, err)
	}
	if !hasDeadline {
		t.Fatal("the partner look-up ran without a deadline")
	}
	if !deadline.Before(leaseUntil) {
		t.Errorf("the attempt's deadline %v is not before its lease's end %v", deadline, leaseUntil)
	}
	if got := b.count(t, "state = 'pending' AND last_error = 'timeout' AND lease_token IS NULL AND attempts = 1"); got != 1 {
		t.Error("the overrun attempt is not recorded as a timeout to retry")
	}
}

// endpointFunc is an Endpoints made of a function.
type endpointFunc func(ctx context.Context, mission string, partner uuid.UUID) (string, Secret, error)

func (f endpointFunc) Endpoint(ctx context.Context, mission string, partner uuid.UUID) (string, Secret, error) {
	return f(ctx, mission, partner)
}

// After MaxAttempts failures a delivery is dead, the next of its key goes out, and Replay
// brings it back with its own webhook-id and an audit record; a 410 is dead at once.
func TestDeadLetterAndReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clk := newClock()
	var mu sync.Mutex
	failing := true
	var first, goneID string
	r := newReceiver(t, clk.Now, func(id string, n int) action {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case id == goneID:
			return gone
		case id == first && failing:
			return fail500
		}
		return accept
	})
	reader := metric.NewManualReader()
	metrics := NewMetrics(metric.NewMeterProvider(metric.WithReader(reader)))
	k := keys(1)
	want := b.queue(t, "NER", k, 2)
	mu.Lock()
	first = want[k[0].String()][0]
	mu.Unlock()
	w := b.worker(r, clk, WorkerConfig{MaxAttempts: 3, Metrics: metrics})
	b.drain(t, w, clk)

	if n := b.count(t, "state = 'dead' AND event_id = $1 AND attempts = 3 AND last_error = 'HTTP 500 Internal Server Error'", first); n != 1 {
		t.Fatalf("the failing delivery is not dead after 3 attempts with its status line")
	}
	if got := r.receipts(); len(got) != 1 || got[0].seq != 2 {
		t.Fatalf("after the dead letter the receiver got %+v, want the second event", got)
	}
	var outcomes string
	b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
		err := conn.QueryRow(ctx, `SELECT string_agg(a.outcome || ':' || a.status_code, ',' ORDER BY a.attempt)
FROM webhook.attempt a JOIN webhook.delivery d USING (delivery_id) WHERE d.event_id = $1`, first).Scan(&outcomes)
		if err != nil {
			t.Fatal(err)
		}
	})
	if outcomes != "retry:500,retry:500,dead:500" {
		t.Errorf("attempts: %s", outcomes)
	}
	if got := sum(t, reader, "passage.webhook.dead_letters"); got != 1 {
		t.Errorf("dead_letters metric = %d, want 1", got)
	}
	if got := sum(t, reader, "passage.webhook.attempts"); got != 4 {
		t.Errorf("attempts metric = %d, want 4", got)
	}

	ctx := context.Background()
	if _, err := Replay(ctx, b.db, ReplayFilter{}); err == nil {
		t.Error("a replay without the operator's id was accepted")
	}
	for name, f := range map[string]ReplayFilter{
		"another partner":   {Partner: uuid.New(), By: "staff-ops"},
		"dead before since": {Since: clk.Now().Add(24 * time.Hour), By: "staff-ops"},
	} {
		if n, err := Replay(ctx, b.db, f); err != nil || n != 0 {
			t.Errorf("%s: replayed %d, %v", name, n, err)
		}
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	if n, err := Replay(ctx, b.db, ReplayFilter{Partner: b.partner, By: "staff-ops"}); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	if n, err := Replay(ctx, b.db, ReplayFilter{By: "staff-ops"}); err != nil || n != 0 {
		t.Errorf("a second replay queued %d, %v", n, err)
	}
	b.drain(t, w, clk)
	got := r.receipts()
	if len(got) != 2 || got[1].id != first {
		t.Fatalf("after the replay the receiver got %+v, want %s again", got, first)
	}
	var audited int
	b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
		err := conn.QueryRow(ctx, `SELECT count(*) FROM audit.record WHERE method = $1 AND actor = 'staff-ops'
AND role = 'operator' AND mission = 'NER' AND aggregate_id = $2`, ReplayCommand, k[0]).Scan(&audited)
		if err != nil {
			t.Fatal(err)
		}
	})
	if audited != 1 {
		t.Errorf("%d audit records of the replay, want 1", audited)
	}

	// 410 Gone: the partner wants no more; no retry.
	d := b.delivery("NER", uuid.New(), 1)
	mu.Lock()
	goneID = d.Event.ID
	mu.Unlock()
	if err := b.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		Queue(batch, d)
		return tx.SendBatch(ctx, batch).Close()
	}); err != nil {
		t.Fatal(err)
	}
	b.drain(t, w, clk)
	if n := b.count(t, "event_id = $1 AND state = 'dead' AND attempts = 1 AND last_error = 'HTTP 410 Gone'", goneID); n != 1 {
		t.Error("a 410 was not dead-lettered at its first attempt")
	}
}

func sum(t *testing.T, r *metric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, p := range s.DataPoints {
					total += p.Value
				}
			}
		}
	}
	return total
}

func gauge(t *testing.T, r *metric.ManualReader, name string) float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[float64]); ok && m.Name == name && len(g.DataPoints) == 1 {
				return g.DataPoints[0].Value
			}
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

func intGauge(t *testing.T, r *metric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == name && len(g.DataPoints) == 1 {
				return g.DataPoints[0].Value
			}
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// Retry-After, in seconds (429) or as a date (503), schedules the next attempt: not a second
// before, and at once after. The clock is moved, nothing sleeps.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		first action
		wait  time.Duration
	}{
		{"429 seconds", tooMany, 30 * time.Second},
		{"503 date", unavailable, 10 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			clk := newClock()
			r := newReceiver(t, clk.Now, func(_ string, n int) action {
				if n == 1 {
					return tt.first
				}
				return accept
			})
			b.queue(t, "NER", keys(1), 1)
			reader := metric.NewManualReader()
			w := b.worker(r, clk, WorkerConfig{Metrics: NewMetrics(metric.NewMeterProvider(metric.WithReader(reader)))})
			ctx := context.Background()
			clk.Advance(90 * time.Second) // due 90 s ago: the backlog gauge says so
			if n, err := w.DeliverDue(ctx); n != 1 || err != nil {
				t.Fatalf("first attempt: %d, %v", n, err)
			}
			if age := gauge(t, reader, "passage.webhook.backlog.age"); age < 90 || age > 100 {
				t.Errorf("backlog age %v s, want about 90", age)
			}
			if depth := intGauge(t, reader, "passage.webhook.queue.depth"); depth != 1 {
				t.Errorf("queue depth %d, want the one pending delivery", depth)
			}
			clk.Advance(tt.wait - time.Second)
			if n, err := w.DeliverDue(ctx); n != 0 || err != nil {
				t.Fatalf("an attempt a second before Retry-After: %d, %v", n, err)
			}
			clk.Advance(time.Second)
			if n, err := w.DeliverDue(ctx); n != 1 || err != nil || len(r.receipts()) != 1 {
				t.Fatalf("at Retry-After: %d, %v, %d received", n, err, len(r.receipts()))
			}
			if n, err := w.DeliverDue(ctx); n != 0 || err != nil {
				t.Fatalf("after the delivery: %d, %v", n, err)
			}
			if depth, age := intGauge(t, reader, "passage.webhook.queue.depth"), gauge(t, reader, "passage.webhook.backlog.age"); depth != 0 || age != 0 {
				t.Errorf("after the delivery: queue depth %d and backlog age %v, want 0 and 0", depth, age)
			}
			if n := sum(t, reader, "passage.webhook.in_flight"); n != 0 {
				t.Errorf("%d deliveries in flight after every attempt was recorded, want 0", n)
			}
		})
	}
}

// What is stored of a failure is a short fixed status line: never the partner's reason phrase
// or body (which here echo a name and a document number), nor the endpoint's URL.
func TestStoredErrorsAreSanitised(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clk := newClock()
	plan := map[int]action{1: echo, 2: hang, 3: reset}
	r := newReceiver(t, clk.Now, func(_ string, n int) action {
		if a, ok := plan[n]; ok {
			return a
		}
		return accept
	})
	b.queue(t, "NER", keys(1), 1)
	w := b.worker(r, clk, WorkerConfig{})
	var errs []string
	for range 3 {
		if _, err := w.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
			var e string
			if err := conn.QueryRow(ctx, `SELECT last_error FROM webhook.delivery`).Scan(&e); err != nil {
				t.Fatal(err)
			}
			errs = append(errs, e)
		})
	}
	if errs[0] != "HTTP 500 Internal Server Error" || errs[1] != "timeout" ||
		(errs[2] != "connection reset" && errs[2] != "connection closed before a response") {
		t.Errorf("stored errors: %q", errs)
	}
	// A refused connection, and endpoints that are not https.
	closed := newReceiver(t, clk.Now, nil)
	closed.srv.Close()
	for url, want := range map[string]string{closed.srv.URL: "connection refused"} {
		w := NewWorker(b.db, endpoints{partner: b.partner, url: url, secret: r.secret},
			WorkerConfig{AllowNetworks: egress.Loopback(), Now: clk.Now, Jitter: func() float64 { return 0 }})
		if _, err := w.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := b.count(t, "last_error = $1", want); n != 1 {
			t.Errorf("%s: not stored as %q", url, want)
		}
	}
	w = NewWorker(b.db, endpoints{partner: b.partner, url: r.srv.URL + "/?token=s3cret", secret: r.secret},
		WorkerConfig{Now: clk.Now, Jitter: func() float64 { return 0 }})
	if _, err := w.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, "last_error = 'endpoint url refused'"); n != 1 {
		t.Error("an http:// endpoint was not refused without AllowNetworks")
	}
	b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
		var dump string
		err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(x::text, ' '), '') FROM
  (SELECT d::text x FROM webhook.delivery d UNION ALL SELECT a::text FROM webhook.attempt a) t`).Scan(&dump)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"Amina", "A1234567", "s3cret", "127.0.0.1"} {
			if strings.Contains(dump, leak) {
				t.Errorf("%q stored in the webhook tables", leak)
			}
		}
		var longest int
		if err := conn.QueryRow(ctx, `SELECT coalesce(max(char_length(error)), 0) FROM webhook.attempt`).Scan(&longest); err != nil || longest > 40 {
			t.Errorf("longest stored error: %d, %v", longest, err)
		}
	})
}

// Queue commits and rolls back with the change; a second transaction queueing for the same
// ordering key waits for the first, so ids follow commit order per key; an invalid delivery
// or another mission's fails the transaction.
func TestQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	key := uuid.New()
	send := func(tx pgx.Tx, d Delivery) error {
		batch := &pgx.Batch{}
		Queue(batch, d)
		return tx.SendBatch(ctx, batch).Close()
	}
	rollback := errors.New("rolled back")
	if err := b.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
		if err := send(tx, b.delivery("NER", key, 1)); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if n := b.count(t, "true"); n != 0 {
		t.Fatalf("a rolled-back change left %d deliveries", n)
	}

	bad := b.delivery("NER", key, 1)
	bad.Event.ID = "has.a.dot"
	if bad.Validate() == nil {
		t.Error("Validate accepted an id with dots")
	}
	for name, d := range map[string]Delivery{"invalid event": bad, "another mission": b.delivery("DEU", key, 1)} {
		if err := b.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error { return send(tx, d) }); err == nil {
			t.Errorf("%s queued", name)
		}
	}

	// Commit order per key: the second transaction's insert waits for the first's end.
	first, second := b.delivery("NER", key, 1), b.delivery("NER", key, 2)
	holding := make(chan struct{})
	release := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- b.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
			if err := send(tx, first); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	secondDone := make(chan error, 1)
	go func() {
		secondDone <- b.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error { return send(tx, second) })
	}()
	select {
	case err := <-secondDone:
		t.Fatalf("the second transaction queued for the key while the first was open: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, `event_id = $1 AND delivery_id < (SELECT delivery_id FROM webhook.delivery WHERE event_id = $2)`,
		first.Event.ID, second.Event.ID); n != 1 {
		t.Error("deliveries of one key are not numbered in commit order")
	}
	// The same event for the same partner is queued once.
	if err := b.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error { return send(tx, first) }); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, "event_id = $1", first.Event.ID); n != 1 {
		t.Errorf("the same event queued %d times", n)
	}
}

func TestBackoffAndRetryAfter(t *testing.T) {
	t.Parallel()
	w := NewWorker(nil, nil, WorkerConfig{InitialBackoff: time.Second, MaxBackoff: time.Minute, Jitter: func() float64 { return 0.999 }})
	for n, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: time.Minute, 300: time.Minute} {
		if d := w.backoff(n); d > ceiling || d < ceiling*99/100 {
			t.Errorf("backoff(%d) = %v, want just under %v", n, d, ceiling)
		}
	}
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"120": 2 * time.Minute, " 0 ": 0, now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat): 0,
	} {
		if d, ok := parseRetryAfter(v, now); !ok || d != want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", v, d, ok, want)
		}
	}
	for _, v := range []string{"", "-1", "soon", "1.5", "99999999999"} {
		if _, ok := parseRetryAfter(v, now); ok {
			t.Errorf("parseRetryAfter(%q) accepted", v)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
