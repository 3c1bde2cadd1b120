package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/telemetry"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// lag is what the consumer's gauges said at one collection; ok is false when they were absent.
type lag struct {
	backlog int64
	age     float64
	ok      bool
}

func collectLag(t *testing.T, reader *sdkmetric.ManualReader, consumer string) lag {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	want := attribute.NewSet(attribute.String("consumer", consumer))
	var got lag
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					if m.Name == outbox.MetricBacklog && p.Attributes.Equals(&want) {
						got.backlog, got.ok = p.Value, true
					}
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					if m.Name == outbox.MetricOldestAge && p.Attributes.Equals(&want) {
						got.age = p.Value
					}
				}
			}
		}
	}
	return got
}

func TestConsumerBacklogMetrics(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	for _, id := range []string{"a", "b", "c"} {
		write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: id}})
	}
	reader := sdkmetric.NewManualReader()
	entered, gate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "metered", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		PollInterval:  5 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
			once.Do(func() { close(entered); <-gate })
			return nil
		},
	})
	if got := collectLag(t, reader, "metered"); got.ok {
		t.Errorf("gauges before Run: %+v, want none", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	// The first drain holds its transaction open in the handler: nothing is applied yet.
	<-entered
	if got := collectLag(t, reader, "metered"); !got.ok || got.backlog != 3 || got.age <= 0 {
		t.Errorf("while nothing is applied: %+v, want a backlog of 3 and a positive age", got)
	}
	close(gate)
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, _, err := c.Lag(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog still %d", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := collectLag(t, reader, "metered"); !got.ok || got.backlog != 0 || got.age != 0 {
		t.Errorf("once applied: %+v, want 0 and 0", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := collectLag(t, reader, "metered"); got.ok {
		t.Errorf("gauges after Run returned: %+v, want none", got)
	}
}

// syncBuffer is a bytes.Buffer the consumer's goroutine may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A failed drain is logged in the process's JSON form, with the trace and span ids of the
// span the consumer runs under, and without the event's payload.
func TestConsumerLogsJSONWithTraceIDs(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	write(t, pool, "NER", &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: "secret-case-content"}})
	var logs syncBuffer
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "logged", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		PollInterval: 5 * time.Millisecond, Logger: telemetry.NewLogger(&logs, slog.LevelInfo),
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error { return errors.New("projection refused") },
	})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, span := tp.Tracer("test").Start(context.Background(), "consumer")
	defer span.End()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "outbox consumer failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failure logged:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(logs.String(), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("not a JSON line %q: %v", line, err)
	}
	sc := span.SpanContext()
	if rec["msg"] != "outbox consumer failed" || rec["level"] != "ERROR" || rec["consumer"] != "logged" ||
		rec["trace_id"] != sc.TraceID().String() || rec["span_id"] != sc.SpanID().String() {
		t.Errorf("log line %v, want the failure with consumer, trace_id %s and span_id %s", rec, sc.TraceID(), sc.SpanID())
	}
	if strings.Contains(logs.String(), "secret-case-content") {
		t.Errorf("the event's payload reached the log:\n%s", logs.String())
	}
}

// While the database cannot be reached, the gauges are absent and the collection still
// succeeds: an outage is readiness's to report, not every scrape's.
func TestConsumerGaugesAbsentWhileTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	reader := sdkmetric.NewManualReader()
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "cut-off", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		PollInterval: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Handle:        func(context.Context, pgx.Tx, outbox.Record) error { return nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for !collectLag(t, reader, "cut-off").ok {
		if time.Now().After(deadline) {
			t.Fatal("no gauges while Run runs")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pool.Close()
	if got := collectLag(t, reader, "cut-off"); got.ok {
		t.Errorf("gauges with the pool closed: %+v, want none", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
