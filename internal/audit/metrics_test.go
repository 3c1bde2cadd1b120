package audit_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
)

// chainerLag is what the chainer's gauges said at one collection; ok is false when absent.
type chainerLag struct {
	backlog int64
	age     float64
	ok      bool
}

func collectChainerLag(t *testing.T, reader *sdkmetric.ManualReader) chainerLag {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var got chainerLag
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				if m.Name == audit.MetricBacklog && len(d.DataPoints) == 1 {
					got.backlog, got.ok = d.DataPoints[0].Value, d.DataPoints[0].Attributes.Len() == 0
				}
			case metricdata.Gauge[float64]:
				if m.Name == audit.MetricOldestAge && len(d.DataPoints) == 1 {
					got.age = d.DataPoints[0].Value
				}
			}
		}
	}
	return got
}

func TestChainerLagMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	writer := open(t, b.adminURL, "passage_intake")
	for i := range 3 {
		if err := audit.Write(ctx, database.NewDB(writer).Mission("NER"), entry("NER", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Hold the chainer's cursor row, as another process's chainer would mid-batch: the
	// chainer runs but links nothing until it is released.
	hold, err := b.admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }()
	if _, err := hold.Exec(ctx, `INSERT INTO audit.chain_cursor (name, tx_id, record_id) VALUES ('chain', '0', 0)
ON CONFLICT (name) DO UPDATE SET name = excluded.name`); err != nil {
		t.Fatal(err)
	}

	reader := sdkmetric.NewManualReader()
	c := audit.NewChainer(b.auditor, b.key, audit.ChainerConfig{PollInterval: 5 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()

	var got chainerLag
	deadline := time.Now().Add(30 * time.Second)
	for got = collectChainerLag(t, reader); !got.ok; got = collectChainerLag(t, reader) {
		if time.Now().After(deadline) {
			t.Fatal("no chainer gauges while Run runs")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got.backlog != 3 || got.age <= 0 {
		t.Errorf("while the cursor is held: %+v, want 3 records unchained and a positive age", got)
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for n := int64(-1); n != 0; {
		if n, _, err = c.Lag(ctx); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d records unchained", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := collectChainerLag(t, reader); !got.ok || got.backlog != 0 || got.age != 0 {
		t.Errorf("once chained: %+v, want 0 and 0", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := collectChainerLag(t, reader); got.ok {
		t.Errorf("gauges after Run returned: %+v", got)
	}
}
