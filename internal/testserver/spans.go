package testserver

import (
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

var (
	spansOnce sync.Once
	spans     *tracetest.SpanRecorder
)

// recordSpans installs, once per test binary, a global tracer provider that records every
// span, so that tests can inspect what the gRPC and Postgres instrumentation exports.
func recordSpans() {
	spansOnce.Do(func() {
		spans = tracetest.NewSpanRecorder()
		otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	})
}

// SpanText returns every span ended so far in this test binary (all tests' spans, not only
// this one's) as text: names, attributes, events and statuses, one span a line.
func SpanText() string {
	recordSpans()
	var b strings.Builder
	for _, s := range spans.Ended() {
		fmt.Fprintf(&b, "%s %s %s", s.Name(), s.Status().Code, s.Status().Description)
		for _, a := range s.Attributes() {
			fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.Emit())
		}
		for _, e := range s.Events() {
			fmt.Fprintf(&b, " event %s", e.Name)
			for _, a := range e.Attributes {
				fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.Emit())
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
