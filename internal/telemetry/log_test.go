package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/passage-cm/passage/internal/telemetry"
)

// lines parses buf's JSON lines.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func TestLoggerAddsTheSpansIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := telemetry.NewLogger(&buf, slog.LevelInfo).With("component", "worker")
	// Never sampled, as without an exporter: the span still has ids to correlate by.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, span := tp.Tracer("test").Start(context.Background(), "drain")
	defer span.End()

	logger.InfoContext(ctx, "with span", "n", 1)
	logger.InfoContext(context.Background(), "without span")
	logger.DebugContext(ctx, "below the level")

	got := lines(t, &buf)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(got), buf.String())
	}
	sc := span.SpanContext()
	want := map[string]any{"level": "INFO", "msg": "with span", "component": "worker", "n": float64(1),
		"trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String()}
	delete(got[0], "time")
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("line with a span (-want +got):\n%s", diff)
	}
	for _, key := range []string{"trace_id", "span_id"} {
		if _, ok := got[1][key]; ok {
			t.Errorf("line without a span has %s: %v", key, got[1])
		}
	}
}

func TestDefaultLoggerLinesAreJSON(t *testing.T) {
	// Not parallel: it replaces the process's default logger, as bootstrap.Serve does.
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	var buf bytes.Buffer
	slog.SetDefault(telemetry.NewLogger(&buf, slog.LevelInfo))

	log.Printf("a library's line %d", 7)
	slog.Warn("a worker with no logger of its own")

	got := lines(t, &buf)
	if len(got) != 2 || got[0]["msg"] != "a library's line 7" || got[1]["level"] != "WARN" {
		t.Errorf("default loggers' lines %v, want both as JSON", got)
	}
}
