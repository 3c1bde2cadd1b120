package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/failurelog"
)

// Endpoints finds where a partner receives webhooks and the secret to sign them with (the
// referral service's partner registry). An error makes the attempt fail and be retried.
type Endpoints interface {
	Endpoint(ctx context.Context, mission string, partner uuid.UUID) (url string, secret Secret, err error)
}

// WorkerConfig tunes a Worker; every zero field takes the default named beside it.
type WorkerConfig struct {
	// Name is declared as passage.webhook_worker (logs and the database's own view of who is
	// working). Default "webhook".
	Name string
	// Concurrency is how many deliveries one DeliverDue sends at once (each of a different
	// ordering key). Default 8.
	Concurrency int
	// PollInterval is Run's pause when nothing is due. Default 1s.
	PollInterval time.Duration
	// Timeout bounds one attempt, counted from its claim: the partner's endpoint looked up,
	// the request sent and its answer read all end by then. The scheme recommends 15 to 30 s.
	// Default 20s.
	Timeout time.Duration
	// LeaseMargin is added to Timeout for the claim's lease, to absorb clock differences
	// between replicas: no other worker takes the delivery before the lease ends, and the
	// attempt is over LeaseMargin before it does. Default 30s.
	LeaseMargin time.Duration
	// InitialBackoff and MaxBackoff shape the retry delay: a uniformly random duration in
	// [0, min(MaxBackoff, InitialBackoff·2^(n-1))) after the n-th failed attempt ("full
	// jitter"). Defaults 5s and 6h.
	InitialBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps a partner's Retry-After. Default 6h.
	MaxRetryAfter time.Duration
	// MaxAttempts and MaxAge dead-letter a delivery that failed that many times, or that was
	// queued that long ago, since it was last queued (or replayed). Defaults 20 and 72h: the
	// scheme suggests retrying over several days.
	MaxAttempts int
	MaxAge      time.Duration
	// AllowNetworks are non-public networks the worker may deliver to, and the only ones
	// plain http:// may reach: a developer's receiver on this machine (egress.Loopback), a
	// partner on a private network declared as such. Empty by default, as in production: every
	// connection then goes to a public address over https, checked at dial time on the
	// resolved address (see internal/egress), and a refused one is a failed attempt.
	AllowNetworks []netip.Prefix
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Jitter returns a uniform float64 in [0, 1). Default math/rand/v2.
	Jitter func() float64
	// Sleep waits d or until ctx ends (Run's pause). Default a timer.
	Sleep func(ctx context.Context, d time.Duration)
	// Metrics default to the global meter provider; Logger to slog.Default().
	Metrics *Metrics
	Logger  *slog.Logger
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Name == "" {
		c.Name = "webhook"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	def(&c.PollInterval, time.Second)
	def(&c.Timeout, 20*time.Second)
	def(&c.LeaseMargin, 30*time.Second)
	def(&c.InitialBackoff, 5*time.Second)
	def(&c.MaxBackoff, 6*time.Hour)
	def(&c.MaxRetryAfter, 6*time.Hour)
	def(&c.MaxAge, 72*time.Hour)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	if c.Sleep == nil {
		c.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(otel.GetMeterProvider())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Worker delivers due deliveries of every mission. Run several (replicas) at once if needed.
type Worker struct {
	db  *database.DB
	ep  Endpoints
	cfg WorkerConfig
	// https reaches public addresses and AllowNetworks; http only AllowNetworks. Neither
	// follows a redirect (a 3xx is a failure, as the scheme asks), nor uses a proxy.
	https, http *http.Client
}

// NewWorker returns a worker reading the queue through db (the referral role's pool).
func NewWorker(db *database.DB, ep Endpoints, cfg WorkerConfig) *Worker {
	cfg = cfg.withDefaults()
	policy := egress.Policy{Allow: cfg.AllowNetworks}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Worker{db: db, ep: ep, cfg: cfg,
		https: &http.Client{Transport: policy.Transport(cfg.Timeout), CheckRedirect: noRedirect},
		http:  &http.Client{Transport: policy.OnlyAllowed().Transport(cfg.Timeout), CheckRedirect: noRedirect},
	}
}

// Run delivers until ctx ends, pausing PollInterval when nothing is due (and longer, up to
// 30 s, while the database fails). It returns nil when ctx ends: deliveries in flight are
// given back to the queue, to be sent again under the same webhook-id.
func (w *Worker) Run(ctx context.Context) error {
	pause := w.cfg.PollInterval
	failures := failurelog.New(w.cfg.Logger, "webhook worker")
	for {
		n, err := w.DeliverDue(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures.Failed(ctx, err)
			pause = min(2*pause, 30*time.Second)
		default:
			failures.Succeeded(ctx)
			if n > 0 {
				continue
			}
			pause = w.cfg.PollInterval
		}
		w.cfg.Sleep(ctx, pause)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// claimed is a delivery this worker holds the lease of.
type claimed struct {
	id          int64
	mission     string
	partner     uuid.UUID
	eventID     string
	body        []byte
	attempts    int
	sinceQueue  int // attempts since it was last queued, this one included
	createdAt   time.Time
	queuedAt    time.Time
	leaseToken  uuid.UUID
	attemptedAt time.Time
	// deadline ends the attempt, on the real clock: Timeout after the claim, so LeaseMargin
	// before the lease it took runs out.
	deadline time.Time
}

// The claim takes, across missions, the due head of each ordering key: the lowest pending
// delivery of its (partner, key), not leased by a live claim, and locks it with SKIP LOCKED so
// that workers claiming at the same time take different rows. Its lease then keeps the row
// from every other worker until the attempt is recorded or the lease ends.
const claimSQL = `WITH due AS (
  SELECT d.delivery_id FROM webhook.delivery d
  WHERE d.state = 'pending' AND d.next_attempt_at <= $1
    AND (d.lease_until IS NULL OR d.lease_until <= $1)
    AND NOT EXISTS (SELECT FROM webhook.delivery e
                    WHERE e.partner_id = d.partner_id AND e.ordering_key = d.ordering_key
                      AND e.state = 'pending' AND e.delivery_id < d.delivery_id)
  ORDER BY d.next_attempt_at, d.delivery_id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
UPDATE webhook.delivery d SET lease_until = $3, lease_token = $4, attempts = d.attempts + 1
FROM due WHERE d.delivery_id = due.delivery_id
RETURNING d.delivery_id, d.mission, d.partner_id, d.event_id, d.body, d.attempts,
  d.attempts - d.attempts_at_queue, d.created_at, d.queued_at`

// claimTimeout bounds a claim, which runs to its end even when the worker is stopping.
const claimTimeout = 10 * time.Second

// backlogSQL reads the pending deliveries' partial index (delivery_due) only: the age of the
// oldest due one and how many are pending.
const backlogSQL = `SELECT coalesce(extract(epoch FROM $1::timestamptz - min(next_attempt_at) FILTER (WHERE next_attempt_at <= $1))::float8, 0),
  count(*)
FROM webhook.delivery WHERE state = 'pending'`

// DeliverDue claims up to Concurrency due deliveries, sends them at once, records each
// attempt, and returns how many it attempted. A delivery in flight when ctx ends is given
// back unrecorded.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	now := w.cfg.Now()
	// How far behind the queue is (every mission's due deliveries, the blocked ones behind a
	// failing head included) and how long it is, for the backlog and depth gauges.
	var age float64
	var pending int64
	if err := w.db.WebhookWorker(w.cfg.Name).QueryRow(ctx, backlogSQL, now).Scan(&age, &pending); err != nil {
		return 0, fmt.Errorf("webhook: backlog: %w", err)
	}
	w.cfg.Metrics.backlogAge(time.Duration(age*float64(time.Second)), pending)
	token := uuid.New()
	// The lease runs Timeout plus LeaseMargin from the claim, and the attempt Timeout from the
	// same instant, on the real clock whatever Now is: an attempt is over, however slow its
	// partner look-up or its partner, before another worker may take the delivery.
	now = w.cfg.Now()
	deadline := time.Now().Add(w.cfg.Timeout)
	// The claim is not cut short by ctx: a claim that committed in the database while its
	// caller gave up would leave deliveries leased, held back until the lease ends. It runs to
	// its end (bounded on its own), and what it claimed after a stop is given back below.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	defer cancel()
	rows, err := w.db.WebhookWorker(w.cfg.Name).Query(cctx, claimSQL, now, w.cfg.Concurrency,
		now.Add(w.cfg.Timeout+w.cfg.LeaseMargin), token)
	if err != nil {
		return 0, fmt.Errorf("webhook: claim: %w", err)
	}
	var batch []claimed
	var c claimed
	_, err = pgx.ForEachRow(rows, []any{&c.id, &c.mission, &c.partner, &c.eventID, &c.body, &c.attempts,
		&c.sinceQueue, &c.createdAt, &c.queuedAt}, func() error {
		c.leaseToken, c.deadline = token, deadline
		batch = append(batch, c)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("webhook: claim: %w", err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
	)
	for _, c := range batch {
		sent := w.cfg.Metrics.sending(ctx)
		wg.Go(func() {
			defer sent()
			recorded, err := w.deliver(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			if recorded {
				done++
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	return done, firstErr
}

// result is the outcome of one attempt.
type result struct {
	status     int           // HTTP status, 0 when no response came
	errText    string        // sanitised status line, "" on success
	retryAfter time.Duration // the partner's Retry-After on 429/503, -1 when absent
	gone       bool          // 410: the partner wants no more deliveries here
}

func (w *Worker) deliver(ctx context.Context, c claimed) (bool, error) {
	if ctx.Err() != nil || !time.Now().Before(c.deadline) {
		// Stopping, or a claim so slow that no time is left for the attempt: given back
		// uncounted, nothing having been sent.
		return false, w.release(c)
	}
	start := w.cfg.Now()
	c.attemptedAt = start
	actx, cancel := context.WithDeadline(ctx, c.deadline)
	defer cancel()
	res := w.send(actx, c)
	if ctx.Err() != nil {
		// Stopped mid-flight: give the delivery back at once rather than waiting out the
		// lease. The partner may have received it; it comes again under the same webhook-id.
		return false, w.release(c)
	}
	elapsed := w.cfg.Now().Sub(start)
	return true, w.record(ctx, c, res, elapsed)
}

// send makes one attempt, which ends with ctx (the attempt's deadline).
func (w *Worker) send(ctx context.Context, c claimed) result {
	noRetryAfter := result{retryAfter: -1}
	target, secret, err := w.ep.Endpoint(ctx, c.mission, c.partner)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		noRetryAfter.errText = "timeout"
		return noRetryAfter
	}
	if err != nil || secret.IsZero() {
		noRetryAfter.errText = "no endpoint for the partner"
		return noRetryAfter
	}
	u, err := url.Parse(target)
	var client *http.Client
	switch {
	case err != nil || u.Host == "" || u.User != nil:
	case u.Scheme == "https":
		client = w.https
	case u.Scheme == "http" && len(w.cfg.AllowNetworks) > 0:
		client = w.http // which dials the allowed networks only
	}
	if client == nil {
		noRetryAfter.errText = "endpoint url refused"
		return noRetryAfter
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(c.body))
	if err != nil {
		noRetryAfter.errText = "endpoint url refused"
		return noRetryAfter
	}
	now := w.cfg.Now()
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("User-Agent", "passage-webhook/1")
	req.Header.Set(HeaderID, c.eventID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, Sign(secret, c.eventID, now, c.body))
	resp, err := client.Do(req)
	if err != nil {
		var refused *egress.RefusedError
		if errors.As(err, &refused) {
			// Said without the URL, whose path or query may hold the partner's token: the
			// delivery, the partner and the kind of address its endpoint resolved to.
			attrs := []any{slog.Int64("delivery_id", c.id), slog.String("partner_id", c.partner.String()),
				slog.String("address_kind", refused.Kind)}
			if refused.Range.IsValid() {
				attrs = append(attrs, slog.String("range", refused.Range.String()))
			}
			w.cfg.Logger.WarnContext(ctx, "webhook endpoint address refused", attrs...)
		}
		noRetryAfter.errText = transportError(err)
		return noRetryAfter
	}
	// Read a little of the body so the connection can be reused, and keep none of it.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
	res := result{status: resp.StatusCode, retryAfter: -1}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return res
	}
	res.errText = statusLine(resp.StatusCode)
	res.gone = resp.StatusCode == http.StatusGone
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			res.retryAfter = min(d, w.cfg.MaxRetryAfter)
		}
	}
	return res
}

const recordSQL = `WITH d AS (
  UPDATE webhook.delivery SET state = $3, next_attempt_at = $4, finished_at = $5, last_error = $6,
    lease_until = NULL, lease_token = NULL
  WHERE delivery_id = $1 AND lease_token = $2
  RETURNING delivery_id, mission, attempts
)
INSERT INTO webhook.attempt (delivery_id, mission, attempt, attempted_at, duration_ms, status_code, outcome, error)
SELECT delivery_id, mission, attempts, $7, $8, $9, $10, $6 FROM d`

// record stores the attempt and the delivery's next state, if this worker still holds the lease.
func (w *Worker) record(ctx context.Context, c claimed, res result, elapsed time.Duration) error {
	now := w.cfg.Now()
	state, outcome, next := "pending", "retry", now
	var finished *time.Time
	var lastErr *string
	switch {
	case res.errText == "":
		state, outcome, finished = "delivered", "delivered", &now
	case res.gone || c.sinceQueue >= w.cfg.MaxAttempts || now.Sub(c.queuedAt) >= w.cfg.MaxAge:
		state, outcome, finished = "dead", "dead", &now
	case res.retryAfter >= 0:
		next = now.Add(res.retryAfter)
	default:
		next = now.Add(w.backoff(c.sinceQueue))
	}
	if res.errText != "" {
		lastErr = &res.errText
	}
	var status *int
	if res.status != 0 {
		status = &res.status
	}
	ms := max(elapsed.Milliseconds(), 0)
	tag, err := w.db.WebhookWorker(w.cfg.Name).Exec(context.WithoutCancel(ctx), recordSQL,
		c.id, c.leaseToken, state, next, finished, lastErr, c.attemptedAt, ms, status, outcome)
	if err != nil {
		return fmt.Errorf("webhook: record attempt: %w", err)
	}
	m := w.cfg.Metrics
	if tag.RowsAffected() == 0 {
		// The lease ran out and another worker took the delivery: its outcome is that
		// worker's to record. (The attempt ended LeaseMargin before the lease, so this needs
		// clocks further apart than that, or a record that took longer.)
		m.leaseLost(ctx)
		w.cfg.Logger.WarnContext(ctx, "webhook lease lost", slog.Int64("delivery_id", c.id))
		return nil
	}
	m.attempt(ctx, outcome, res.status, elapsed)
	switch outcome {
	case "delivered":
		m.finished(ctx, "delivered", now.Sub(c.createdAt))
	case "dead":
		m.finished(ctx, "dead", now.Sub(c.createdAt))
		w.cfg.Logger.WarnContext(ctx, "webhook delivery dead-lettered", slog.Int64("delivery_id", c.id),
			slog.Int("attempts", c.attempts), slog.String("last_error", res.errText))
	}
	return nil
}

const releaseSQL = `UPDATE webhook.delivery SET lease_until = NULL, lease_token = NULL, attempts = attempts - 1
WHERE delivery_id = $1 AND lease_token = $2`

// release gives an interrupted attempt's delivery back, uncounted.
func (w *Worker) release(c claimed) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.db.WebhookWorker(w.cfg.Name).Exec(ctx, releaseSQL, c.id, c.leaseToken); err != nil {
		return fmt.Errorf("webhook: release: %w", err)
	}
	return nil
}

// backoff is the delay after the n-th failed attempt: full jitter over an exponential cap.
func (w *Worker) backoff(n int) time.Duration {
	ceiling := float64(w.cfg.MaxBackoff)
	if n >= 1 {
		ceiling = math.Min(ceiling, float64(w.cfg.InitialBackoff)*math.Pow(2, float64(n-1)))
	}
	return time.Duration(w.cfg.Jitter() * ceiling)
}
