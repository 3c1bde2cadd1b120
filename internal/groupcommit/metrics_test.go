package groupcommit_test

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/passage-cm/passage/internal/groupcommit"
)

func TestBatchSizesAndQueueWaitAreMeasured(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	r := &recorder{started: make(chan struct{}, 16), gate: make(chan struct{})}
	b := groupcommit.New(groupcommit.Config{MaxBatch: 4, MaxInFlight: 1, Name: "test.batcher",
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))}, r.flush)
	var wg sync.WaitGroup
	wg.Go(func() { _ = b.Do(context.Background(), 0) })
	<-r.started
	for i := 1; i <= 6; i++ {
		wg.Go(func() { _ = b.Do(context.Background(), i) })
	}
	waitQueued(t, b, 6)
	close(r.gate)
	wg.Wait()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case groupcommit.MetricBatchSize:
				h := m.Data.(metricdata.Histogram[int64])
				p := onePoint(t, m.Name, h.DataPoints)
				// Batches [0], [1 2 3 4], [5 6].
				if p.Count != 3 || p.Sum != 7 {
					t.Errorf("batch sizes: %d batches of %d calls, want 3 of 7", p.Count, p.Sum)
				}
				found[m.Name] = true
			case groupcommit.MetricQueueWait:
				h := m.Data.(metricdata.Histogram[float64])
				if p := onePoint(t, m.Name, h.DataPoints); p.Count != 7 || p.Sum <= 0 {
					t.Errorf("queue waits: %d, total %v s; want 7, six of them behind a held batch", p.Count, p.Sum)
				}
				found[m.Name] = true
			}
		}
	}
	if !found[groupcommit.MetricBatchSize] || !found[groupcommit.MetricQueueWait] {
		t.Errorf("instruments found %v, want both", found)
	}
}

// onePoint returns the only data point, which must carry the batcher's name and nothing else.
func onePoint[N int64 | float64](t *testing.T, name string, points []metricdata.HistogramDataPoint[N]) metricdata.HistogramDataPoint[N] {
	t.Helper()
	if len(points) != 1 {
		t.Fatalf("%s: %d series, want 1", name, len(points))
	}
	want := attribute.NewSet(attribute.String("batcher", "test.batcher"))
	if !points[0].Attributes.Equals(&want) {
		t.Errorf("%s attributes %v, want only batcher", name, points[0].Attributes.ToSlice())
	}
	return points[0]
}

func TestInFlightLimitIsMeasured(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	b := groupcommit.New(groupcommit.Config{MaxInFlight: 2, Name: "test.batcher",
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))}, func(context.Context, []int) {})
	limit := func() int64 {
		t.Helper()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != groupcommit.MetricInFlightLimit {
					continue
				}
				points := m.Data.(metricdata.Gauge[int64]).DataPoints
				want := attribute.NewSet(attribute.String("batcher", "test.batcher"))
				if len(points) != 1 || !points[0].Attributes.Equals(&want) {
					t.Fatalf("%s: points %v, want one of the batcher", m.Name, points)
				}
				return points[0].Value
			}
		}
		t.Fatalf("no %s", groupcommit.MetricInFlightLimit)
		return 0
	}
	if got := limit(); got != 2 {
		t.Errorf("limit %d once created with 2", got)
	}
	b.SetMaxInFlight(1)
	if got := limit(); got != 1 {
		t.Errorf("limit %d once set to 1", got)
	}
	b.SetMaxInFlight(0)
	if got := limit(); got != 1 {
		t.Errorf("limit %d once set to 0 (never below 1)", got)
	}
}
