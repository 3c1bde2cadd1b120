package telemetry

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// NewLogger returns a JSON logger on w at level whose lines carry the trace_id and span_id
// of the span in the context they are logged with (see [TraceHandler]). It is the one form
// of log line of a Passage process: RPCs and background workers alike.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(TraceHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// TraceHandler wraps h so that a record logged with a context holding a valid span (an
// RPC's, a background job's) gets the attributes trace_id and span_id, in the W3C hex form a
// trace back end searches by. Records without a span pass through as they are. The ids are
// random and name no one.
func TraceHandler(h slog.Handler) slog.Handler {
	if t, ok := h.(traceHandler); ok {
		return t
	}
	return traceHandler{h}
}

type traceHandler struct{ inner slog.Handler }

func (t traceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return t.inner.Enabled(ctx, level)
}

func (t traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return t.inner.Handle(ctx, r)
}

func (t traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{t.inner.WithAttrs(attrs)}
}

func (t traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{t.inner.WithGroup(name)}
}
