package groupcommit

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Config bounds a Batcher.
type Config struct {
	// MaxBatch is the most calls one batch takes (default 32).
	MaxBatch int
	// MaxInFlight is the most batches written at once (default 4), until SetMaxInFlight
	// changes it. Each holds a database connection while it is written; more batches in flight
	// means smaller batches.
	MaxInFlight int
	// Name labels the batcher's metrics ("intake.register"): passage.groupcommit.batch.size,
	// the calls per batch, passage.groupcommit.queue.wait, how long a call waited for a batch
	// to take it, and passage.groupcommit.in_flight.limit, the most batches it now writes at
	// once. Default "default".
	Name string
	// MeterProvider gets those instruments. Default the global one.
	MeterProvider metric.MeterProvider
}

// Names of the batchers' instruments (Prometheus: passage_groupcommit_batch_size,
// passage_groupcommit_queue_wait_seconds, histograms; passage_groupcommit_in_flight_limit, a
// gauge).
const (
	MetricBatchSize     = "passage.groupcommit.batch.size"
	MetricQueueWait     = "passage.groupcommit.queue.wait"
	MetricInFlightLimit = "passage.groupcommit.in_flight.limit"
)

// Batcher runs flush over batches of the items its callers Do. flush runs on a caller's
// goroutine (or on one the Batcher starts to carry on after it), with a context that is not
// cancelled when one caller gives up: the batch's other callers still wait for it.
//
// flush must settle every item of the batch (the items carry their own results); Do returns
// once its item's batch has been flushed.
type Batcher[T any] struct {
	cfg   Config
	flush func(ctx context.Context, items []T)

	mu          sync.Mutex
	queue       []*call[T]
	inFlight    int
	maxInFlight int // the limit now: cfg.MaxInFlight until SetMaxInFlight

	size  metric.Int64Histogram
	wait  metric.Float64Histogram
	limit metric.Int64Gauge
	attrs metric.MeasurementOption
}

type call[T any] struct {
	ctx     context.Context
	queued  time.Time
	item    T
	done    chan struct{}
	dropped bool // set before done is closed: the caller had gone when its batch was taken
}

// New returns a Batcher that writes batches with flush.
func New[T any](cfg Config, flush func(ctx context.Context, items []T)) *Batcher[T] {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 32
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	b := &Batcher[T]{cfg: cfg, flush: flush, maxInFlight: cfg.MaxInFlight, attrs: metric.WithAttributes(attribute.String("batcher", cfg.Name))}
	m := cfg.MeterProvider.Meter("github.com/passage-cm/passage/internal/groupcommit")
	// Instrument creation fails only on an invalid name; these are constants, and a failed
	// instrument is a no-op one.
	b.size, _ = m.Int64Histogram(MetricBatchSize, metric.WithUnit("{call}"),
		metric.WithDescription("Calls written together in one batch"),
		metric.WithExplicitBucketBoundaries(1, 2, 4, 8, 16, 32, 64, 128, 256))
	b.wait, _ = m.Float64Histogram(MetricQueueWait, metric.WithUnit("s"),
		metric.WithDescription("Time a call waited in the queue before a batch took it"),
		metric.WithExplicitBucketBoundaries(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	b.limit, _ = m.Int64Gauge(MetricInFlightLimit, metric.WithUnit("{batch}"),
		metric.WithDescription("The most batches written at once, as last set"))
	b.limit.Record(context.Background(), int64(cfg.MaxInFlight), b.attrs)
	return b
}

// SetMaxInFlight changes the most batches written at once to n (at least 1), from now on.
// Raised, it starts batches at once for calls already queued, up to the new limit; lowered,
// it interrupts no batch: those in flight are written to the end, and each that ends while
// more than n are in flight hands its queue to the others instead of taking another batch.
// Every queued call is still taken by exactly one batch.
func (b *Batcher[T]) SetMaxInFlight(n int) {
	n = max(n, 1)
	b.mu.Lock()
	b.maxInFlight = n
	// One more batch for each MaxBatch calls queued, while the limit allows.
	start := 0
	for queued := len(b.queue); queued > 0 && b.inFlight < n; queued -= b.cfg.MaxBatch {
		b.inFlight++
		start++
	}
	// Under the lock, so that of two calls at once the gauge keeps the one that holds.
	b.limit.Record(context.Background(), int64(n), b.attrs)
	b.mu.Unlock()
	for range start {
		// Nobody's call in particular, as run's hand-on: no caller's values.
		go b.run(context.Background())
	}
}

// MaxInFlight returns the most batches written at once, as last set.
func (b *Batcher[T]) MaxInFlight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.maxInFlight
}

// Do queues item and returns when the batch that took it has been flushed, or with ctx's
// error when ctx ends first. An item whose caller gave up before its batch was taken is
// dropped, never flushed; once taken, it is flushed even if its caller has gone.
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	c := &call[T]{ctx: ctx, queued: time.Now(), item: item, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := b.inFlight < b.maxInFlight
	if lead {
		b.inFlight++
	}
	b.mu.Unlock()
	if lead {
		b.run(ctx)
	}
	select {
	case <-c.done:
		if c.dropped {
			return ctx.Err()
		}
		return nil
	case <-ctx.Done():
		// The item may still be in a batch being written; its result is then simply unread.
		return ctx.Err()
	}
}

// run flushes one batch (with ctx's values, never its cancellation) and, if calls are still
// queued, hands on to a goroutine of its own, so that the caller who led this batch is not kept
// waiting for others' batches. It does not hand on while more batches are in flight than the
// limit (lowered by SetMaxInFlight meanwhile): one of those others, at least one since the
// limit is at least 1, takes the queue when it ends.
func (b *Batcher[T]) run(ctx context.Context) {
	calls := b.take()
	if len(calls) > 0 {
		taken := time.Now()
		items := make([]T, len(calls))
		for i, c := range calls {
			items[i] = c.item
			b.wait.Record(ctx, taken.Sub(c.queued).Seconds(), b.attrs)
		}
		b.size.Record(ctx, int64(len(items)), b.attrs)
		b.flush(context.WithoutCancel(ctx), items)
		for _, c := range calls {
			close(c.done)
		}
	}
	b.mu.Lock()
	more := len(b.queue) > 0 && b.inFlight <= b.maxInFlight
	if !more {
		b.inFlight--
	}
	b.mu.Unlock()
	if more {
		// The next batch is nobody's call in particular: it carries no caller's values.
		go b.run(context.Background())
	}
}

// take removes up to MaxBatch calls from the queue, oldest first, skipping those whose
// caller has already gone.
func (b *Batcher[T]) take() []*call[T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	var calls []*call[T]
	n := 0
	for n < len(b.queue) && len(calls) < b.cfg.MaxBatch {
		c := b.queue[n]
		n++
		if c.ctx.Err() != nil {
			c.dropped = true
			close(c.done)
			continue
		}
		calls = append(calls, c)
	}
	b.queue = append(b.queue[:0], b.queue[n:]...)
	return calls
}

// Queued returns how many calls wait for a batch to take them.
func (b *Batcher[T]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}
