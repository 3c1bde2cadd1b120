package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/passage-cm/passage/internal/telemetry"
)

func TestSetupServesMetricsAndInstallsGlobals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	tel, err := telemetry.Setup(ctx, "passage-test", "v0.0.1")
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})

	counter, err := tel.MeterProvider().Meter("test").Int64Counter("passage.test.calls")
	if err != nil {
		t.Fatalf("Int64Counter: %v", err)
	}
	counter.Add(ctx, 3)

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)

	wantLines := []string{
		"passage_test_calls_total{",
		`service_name="passage-test"`,
		`service_version="v0.0.1"`,
		"go_goroutines ",
	}
	var missing []string
	for _, want := range wantLines {
		if !strings.Contains(string(body), want) {
			missing = append(missing, want)
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("metrics output lacks lines (-want +got):\n%s\n%s", diff, body)
	}

	// Only the W3C trace context travels; caller-chosen baggage is not propagated.
	if diff := cmp.Diff([]string{"traceparent", "tracestate"}, otel.GetTextMapPropagator().Fields()); diff != "" {
		t.Errorf("propagator fields (-want +got):\n%s", diff)
	}
	if _, ok := otel.GetTextMapPropagator().(propagation.TraceContext); !ok {
		t.Errorf("global propagator is %T, want propagation.TraceContext", otel.GetTextMapPropagator())
	}
}

func TestSetupTracesWithoutExporter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	tel, err := telemetry.Setup(ctx, "passage-test", "v0.0.1")
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	_, span := tel.TracerProvider().Tracer("test").Start(ctx, "op")
	defer span.End()

	if !span.SpanContext().IsValid() {
		t.Error("span context is not valid: spans must exist even when nothing is exported")
	}
	if span.IsRecording() {
		t.Error("the span records attributes that nothing will export")
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestSetupRejectsUnknownExporter(t *testing.T) {
	// Not parallel: t.Setenv changes the process environment.
	t.Setenv("OTEL_METRICS_EXPORTER", "carrier-pigeon")

	tel, err := telemetry.Setup(context.Background(), "passage-test", "v0.0.1")
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatal("Setup succeeded with an unknown metrics exporter, want an error")
	}
}

func TestShutdownNil(t *testing.T) {
	t.Parallel()
	var tel *telemetry.Telemetry
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown on nil Telemetry = %v, want nil", err)
	}
}
