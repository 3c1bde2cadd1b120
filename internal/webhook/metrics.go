package webhook

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metrics are the worker's OpenTelemetry instruments. Their attributes are outcomes and
// status classes only: no mission, partner or event id, so they stay few and say nothing
// about a case.
type Metrics struct {
	attempts    metric.Int64Counter
	deliveries  metric.Int64Counter
	deadLetters metric.Int64Counter
	leasesLost  metric.Int64Counter
	lag         metric.Float64Histogram
	duration    metric.Float64Histogram
	inFlight    metric.Int64UpDownCounter
	// backlog holds the float64 bits of the age, in seconds, of the oldest delivery that was
	// due and not yet delivered when a worker last looked (0 when none).
	backlog atomic.Uint64
	// depth is the number of pending deliveries (due or waiting for their retry) when a
	// worker last looked.
	depth atomic.Int64
}

// NewMetrics creates the instruments on mp's meter "github.com/passage-cm/passage/internal/webhook".
func NewMetrics(mp metric.MeterProvider) *Metrics {
	m := mp.Meter("github.com/passage-cm/passage/internal/webhook")
	var x Metrics
	// Instrument creation fails only on an invalid name; these are constants, and a failed
	// instrument is a no-op one, so the errors are not worth a failed start.
	x.attempts, _ = m.Int64Counter("passage.webhook.attempts",
		metric.WithDescription("HTTP attempts to deliver a webhook, by outcome (delivered, retry, dead) and status class"))
	x.deliveries, _ = m.Int64Counter("passage.webhook.deliveries",
		metric.WithDescription("Webhook deliveries finished, by state (delivered, dead)"))
	x.deadLetters, _ = m.Int64Counter("passage.webhook.dead_letters",
		metric.WithDescription("Webhook deliveries dead-lettered after their last attempt"))
	x.leasesLost, _ = m.Int64Counter("passage.webhook.leases_lost",
		metric.WithDescription("Attempts whose lease ran out before their outcome was recorded"))
	x.lag, _ = m.Float64Histogram("passage.webhook.lag", metric.WithUnit("s"),
		metric.WithDescription("Time from a delivery's queueing to its delivery or dead-lettering"),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400, 259200))
	x.duration, _ = m.Float64Histogram("passage.webhook.attempt.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of one HTTP attempt"))
	x.inFlight, _ = m.Int64UpDownCounter("passage.webhook.in_flight", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries this process is sending now (claimed, attempt not yet recorded)"))
	_, _ = m.Int64ObservableGauge("passage.webhook.queue.depth", metric.WithUnit("{delivery}"),
		metric.WithDescription("Pending deliveries of every mission, due or waiting to be retried, as of the last poll"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(x.depth.Load())
			return nil
		}))
	// The lag histogram above says how long finished deliveries took; this says how far the
	// queue is behind now, which a stuck endpoint or a stopped worker makes grow.
	_, _ = m.Float64ObservableGauge("passage.webhook.backlog.age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest due delivery not yet delivered, as of the last poll"),
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
			o.Observe(math.Float64frombits(x.backlog.Load()))
			return nil
		}))
	return &x
}

func statusClass(code int) string {
	switch {
	case code == 0:
		return "none"
	case code < 300:
		return "2xx"
	case code < 400:
		return "3xx"
	case code < 500:
		return "4xx"
	default:
		return "5xx"
	}
}

func (m *Metrics) attempt(ctx context.Context, outcome string, status int, d time.Duration) {
	attrs := metric.WithAttributes(attribute.String("outcome", outcome), attribute.String("status_class", statusClass(status)))
	m.attempts.Add(ctx, 1, attrs)
	m.duration.Record(ctx, d.Seconds(), attrs)
}

func (m *Metrics) finished(ctx context.Context, state string, lag time.Duration) {
	attrs := metric.WithAttributes(attribute.String("state", state))
	m.deliveries.Add(ctx, 1, attrs)
	m.lag.Record(ctx, lag.Seconds(), attrs)
	if state == "dead" {
		m.deadLetters.Add(ctx, 1)
	}
}

func (m *Metrics) leaseLost(ctx context.Context) { m.leasesLost.Add(ctx, 1) }

func (m *Metrics) backlogAge(age time.Duration, pending int64) {
	m.backlog.Store(math.Float64bits(max(age.Seconds(), 0)))
	m.depth.Store(pending)
}

// sending counts a delivery in flight until the returned function is called.
func (m *Metrics) sending(ctx context.Context) (done func()) {
	m.inFlight.Add(ctx, 1)
	return func() { m.inFlight.Add(context.WithoutCancel(ctx), -1) }
}
