package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/testtime"
)

// newClock returns the tests' clock, standing a little ahead of the database's clock, which
// stamps a delivery due when it is queued: Retry-After and backoff are checked by moving it,
// not by sleeping.
func newClock() *testtime.Clock {
	return testtime.NewClock(time.Now().Add(2 * time.Second).Truncate(time.Second))
}

// action is what the receiver does with one request.
type action int

const (
	accept      action = iota // 204
	fail500                   // 500
	tooMany                   // 429 with Retry-After: 30
	unavailable               // 503 with Retry-After as an HTTP date 10 minutes on
	hang                      // no answer until the sender gives up
	reset                     // the connection is reset before any answer
	echo                      // 500 with a reason phrase and body echoing a name and a document
	gone                      // 410
)

// receipt is one request the receiver acknowledged.
type receipt struct {
	id  string
	key string
	seq int
	at  time.Time
}

// receiver is a partner's endpoint on a real listener: it verifies every signature with
// Verify, answers as plan says for the n-th request of an id, and records what it
// acknowledged, and whether two requests of one id were ever in flight at once.
//
// In flight is counted at both ends, each exactly. The workers' transports (see observe)
// count a request from when it is sent until its answer is read or the attempt gives up: two
// at once means a worker sent a delivery while an attempt of it was still running. The
// receiver counts a request it answers until just before the answer can reach the sender.
// It does not count a request it hangs on: only the sender knows when it gives up, and the
// receiver learns it later, when it notices the connection closed. (It used to count that
// request until then; on a loaded machine the worker, having timed out, recorded the attempt
// and sent the retry before the receiver noticed, which was counted as an overlap although
// the worker never had two attempts in flight.)
type receiver struct {
	srv    *httptest.Server
	secret Secret
	now    func() time.Time
	plan   func(id string, n int) action
	delay  time.Duration

	mu       sync.Mutex
	got      []receipt
	requests map[string]int
	inflight map[string]int
	overlaps int
	sending  map[string]int // per webhook-id, attempts the workers have in flight
	sendOver int            // times a worker sent a request while one of its id was in flight
	bad      int
}

func newReceiver(t testing.TB, now func() time.Time, plan func(id string, n int) action) *receiver {
	r := &receiver{secret: NewSecret(), now: now, plan: plan, requests: map[string]int{}, inflight: map[string]int{},
		sending: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

type eventData struct {
	Key string `json:"key"`
	Seq int    `json:"seq"`
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if err := Verify(r.secret, req.Header, body, DefaultTolerance, r.now()); err != nil ||
		req.Header.Get("Content-Type") != ContentType {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var e Event
	var d eventData
	if err := json.Unmarshal(body, &e); err != nil || json.Unmarshal(e.Data, &d) != nil || e.ID != req.Header.Get(HeaderID) {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests[e.ID]++
	n := r.requests[e.ID]
	r.inflight[e.ID]++
	if r.inflight[e.ID] > 1 {
		r.overlaps++
	}
	r.mu.Unlock()
	// leave ends the request's time in flight, once: before the answer can reach the sender
	// (the deferred call runs before net/http writes a handler's buffered answer), or when the
	// receiver starts hanging.
	left := false
	leave := func() {
		if !left {
			left = true
			r.mu.Lock()
			r.inflight[e.ID]--
			r.mu.Unlock()
		}
	}
	defer leave()
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	switch r.plan(e.ID, n) {
	case accept:
		r.mu.Lock()
		r.got = append(r.got, receipt{id: e.ID, key: d.Key, seq: d.Seq, at: time.Now()})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case fail500:
		w.WriteHeader(http.StatusInternalServerError)
	case tooMany:
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	case unavailable:
		w.Header().Set("Retry-After", r.now().Add(10*time.Minute).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	case gone:
		w.WriteHeader(http.StatusGone)
	case hang:
		leave()
		select {
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
	case reset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // close with RST
		}
		leave()
		_ = conn.Close()
	case echo:
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		echoed := "Amina Diallo, passport A1234567"
		fmt.Fprintf(buf, "HTTP/1.1 500 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", echoed, len(echoed), echoed)
		leave()
		_ = buf.Flush()
		_ = conn.Close()
	}
}

// observe wraps a worker's transport so that r counts the worker's requests in flight, from
// the moment one is sent until its answer's body is closed or the attempt fails.
func (r *receiver) observe(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		id := req.Header.Get(HeaderID)
		r.mu.Lock()
		r.sending[id]++
		if r.sending[id] > 1 {
			r.sendOver++
		}
		r.mu.Unlock()
		done := sync.OnceFunc(func() {
			r.mu.Lock()
			r.sending[id]--
			r.mu.Unlock()
		})
		resp, err := next.RoundTrip(req)
		if err != nil {
			done()
			return nil, err
		}
		resp.Body = &closeNotifier{ReadCloser: resp.Body, closed: done}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// closeNotifier calls closed once its body is closed.
type closeNotifier struct {
	io.ReadCloser
	closed func()
}

func (c *closeNotifier) Close() error {
	err := c.ReadCloser.Close()
	c.closed()
	return err
}

// receipts returns what was acknowledged, in arrival order.
func (r *receiver) receipts() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receipt(nil), r.got...)
}

// checkOnceInOrder checks the scheme's contract against what was queued (want: per key, the
// event ids in queue order): every event acknowledged, duplicates only of an id already seen,
// and per key the acknowledgements never go back in the queue's order.
func (r *receiver) checkOnceInOrder(t *testing.T, want map[string][]string) (duplicates int) {
	t.Helper()
	r.mu.Lock()
	bad, overlaps, sendOver := r.bad, r.overlaps, r.sendOver
	r.mu.Unlock()
	if bad > 0 {
		t.Errorf("%d requests failed signature or envelope checks", bad)
	}
	if overlaps > 0 {
		t.Errorf("%d times a delivery was in flight twice at once at the receiver", overlaps)
	}
	if sendOver > 0 {
		t.Errorf("%d times a worker sent a delivery while an attempt of it was in flight", sendOver)
	}
	seen := map[string]bool{}
	last := map[string]int{}
	got := map[string][]string{}
	for _, rc := range r.receipts() {
		if rc.seq < last[rc.key] {
			t.Errorf("key %s: event %d acknowledged after event %d", rc.key, rc.seq, last[rc.key])
		}
		last[rc.key] = rc.seq
		if seen[rc.id] {
			duplicates++
			continue
		}
		seen[rc.id] = true
		got[rc.key] = append(got[rc.key], rc.id)
	}
	for key, ids := range want {
		if fmt.Sprint(got[key]) != fmt.Sprint(ids) {
			t.Errorf("key %s: received %d events %v, want %d %v", key, len(got[key]), got[key], len(ids), ids)
		}
	}
	return duplicates
}

// endpoints is a partner registry of one partner.
type endpoints struct {
	partner uuid.UUID
	url     string
	secret  Secret
}

func (e endpoints) Endpoint(_ context.Context, _ string, partner uuid.UUID) (string, Secret, error) {
	if partner != e.partner {
		return "", Secret{}, fmt.Errorf("unknown partner")
	}
	return e.url, e.secret, nil
}

// bundle is one test's database: the referral role's DB and the owner's view.
type bundle struct {
	admin   string
	db      *database.DB
	pool    *pgxpool.Pool
	partner uuid.UUID
}

func setup(t testing.TB) *bundle {
	t.Helper()
	admin := pgtest.New(t)
	b := &bundle{admin: admin, partner: uuid.New()}
	b.pool, b.db = b.open(t)
	return b
}

// open connects again as the referral role: another replica.
func (b *bundle) open(t testing.TB) (*pgxpool.Pool, *database.DB) {
	t.Helper()
	pool, err := database.Open(context.Background(), database.PoolConfig{AdminURL: b.admin, Role: "passage_referral", MaxConns: 12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, database.NewDB(pool)
}

func (b *bundle) worker(r *receiver, clk *testtime.Clock, cfg WorkerConfig) *Worker {
	return b.workerOn(b.db, r, clk, cfg)
}

func (b *bundle) workerOn(db *database.DB, r *receiver, clk *testtime.Clock, cfg WorkerConfig) *Worker {
	cfg.AllowNetworks = egress.Loopback()
	if cfg.Timeout == 0 {
		// Long enough that a loaded machine does not time out an answer on its way (which
		// would rightly be sent again), short enough that the hanging receiver costs little.
		cfg.Timeout = 2 * time.Second
	}
	if clk != nil {
		cfg.Now = clk.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0 } // retries at once unless Retry-After says otherwise
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	w := NewWorker(db, endpoints{partner: b.partner, url: r.srv.URL, secret: r.secret}, cfg)
	w.http.Transport = r.observe(w.http.Transport)
	w.https.Transport = r.observe(w.https.Transport)
	return w
}

// queue queues, for each key in turn, n events (seq 1..n) in one transaction per event, and
// returns the event ids per key in queue order.
func (b *bundle) queue(t testing.TB, mission string, keys []uuid.UUID, n int) map[string][]string {
	t.Helper()
	ctx := context.Background()
	want := map[string][]string{}
	for seq := 1; seq <= n; seq++ {
		for _, k := range keys {
			d := b.delivery(mission, k, seq)
			err := b.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
				batch := &pgx.Batch{}
				Queue(batch, d)
				return tx.SendBatch(ctx, batch).Close()
			})
			if err != nil {
				t.Fatal(err)
			}
			want[k.String()] = append(want[k.String()], d.Event.ID)
		}
	}
	return want
}

func (b *bundle) delivery(mission string, key uuid.UUID, seq int) Delivery {
	data, _ := json.Marshal(eventData{Key: key.String(), Seq: seq})
	return Delivery{Mission: mission, Partner: b.partner, OrderingKey: key, Event: Event{
		ID: uuid.NewString(), Source: "/passage/referral/" + mission, Type: "org.iom.passage.referral.v1.updated",
		Subject: key.String(), Time: time.Now(), Data: data}}
}

// owner runs fn as the database owner.
func (b *bundle) owner(t testing.TB, fn func(ctx context.Context, conn *pgx.Conn)) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, b.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	fn(ctx, conn)
}

func (b *bundle) count(t testing.TB, where string, args ...any) int {
	t.Helper()
	var n int
	b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM webhook.delivery WHERE "+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

// drain runs DeliverDue until nothing is pending, moving clk a minute on whenever nothing is
// due, so that backoff and Retry-After pass without waiting.
func (b *bundle) drain(t *testing.T, w *Worker, clk *testtime.Clock) {
	t.Helper()
	for round := 0; round < 2000; round++ {
		n, err := w.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			continue
		}
		if b.count(t, "state = 'pending'") == 0 {
			return
		}
		clk.Advance(time.Minute)
	}
	t.Fatal("deliveries still pending after 2000 rounds")
}

func keys(n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = uuid.New()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
