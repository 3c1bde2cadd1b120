package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry owns the process's tracer and meter providers. Create it once in main with
// [Setup] and call [Telemetry.Shutdown] last, after the servers have stopped, so the final
// spans and metrics are flushed.
type Telemetry struct {
	tracerProvider *sdktrace.TracerProvider
	meterProvider  *sdkmetric.MeterProvider
	metricsHandler http.Handler
}

// Setup builds the tracer and meter providers for serviceName at version and installs them,
// with the W3C trace-context propagator, as the OpenTelemetry globals.
//
// OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER choose the exporters ("otlp", "console",
// "none", ...; see autoexport); when they are unset nothing is exported. Metrics are also
// collected into a private Prometheus registry served by [Telemetry.MetricsHandler].
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, override the resource.
func Setup(ctx context.Context, serviceName, version string) (*Telemetry, error) {
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(serviceName), semconv.ServiceVersion(version)),
		// Last, so that an operator's environment wins over the compiled-in names.
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}

	spanExporter, err := autoexport.NewSpanExporter(ctx,
		autoexport.WithFallbackSpanExporter(func(context.Context) (sdktrace.SpanExporter, error) {
			return noSpanExporter{}, nil
		}))
	if err != nil {
		return nil, fmt.Errorf("telemetry: span exporter: %w", err)
	}
	traceOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if _, none := spanExporter.(noSpanExporter); !none && !autoexport.IsNoneSpanExporter(spanExporter) {
		traceOpts = append(traceOpts, sdktrace.WithBatcher(spanExporter))
	} else {
		// Without an exporter, spans still get ids (trace context propagates to callees) but
		// record nothing: attributes and events nobody will read cost CPU on every call and
		// every query.
		traceOpts = append(traceOpts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	tp := sdktrace.NewTracerProvider(traceOpts...)

	mp, handler, err := newMeterProvider(ctx, res)
	if err != nil {
		return nil, errors.Join(err, tp.Shutdown(ctx))
	}

	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	// Trace context only: W3C baggage is free text chosen by the caller, and nothing in
	// Passage needs it, so it is neither read nor forwarded.
	otel.SetTextMapPropagator(propagation.TraceContext{})

	return &Telemetry{tracerProvider: tp, meterProvider: mp, metricsHandler: handler}, nil
}

// newMeterProvider builds a meter provider that feeds a private Prometheus registry and,
// when OTEL_METRICS_EXPORTER asks for one, an exporting reader.
func newMeterProvider(ctx context.Context, res *resource.Resource) (*sdkmetric.MeterProvider, http.Handler, error) {
	// A registry of our own rather than prometheus.DefaultRegisterer: two providers in one
	// process (tests, the all-in-one binary) must not collide on metric names.
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	promReader, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: prometheus reader: %w", err)
	}

	reader, err := autoexport.NewMetricReader(ctx,
		autoexport.WithFallbackMetricReader(func(context.Context) (sdkmetric.Reader, error) {
			return noMetricReader{sdkmetric.NewManualReader()}, nil
		}))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("telemetry: metric reader: %w", err), promReader.Shutdown(ctx))
	}

	opts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(promReader)}
	if _, none := reader.(noMetricReader); !none && !autoexport.IsNoneMetricReader(reader) {
		opts = append(opts, sdkmetric.WithReader(reader))
	}
	handler := promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	return sdkmetric.NewMeterProvider(opts...), handler, nil
}

// MetricsHandler serves the process's metrics in the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return t.metricsHandler
}

// TracerProvider returns the provider Setup installed as the global one. Pass it explicitly
// where a library accepts it, so that the dependency is visible.
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	return t.tracerProvider
}

// MeterProvider returns the provider Setup installed as the global one.
func (t *Telemetry) MeterProvider() metric.MeterProvider {
	return t.meterProvider
}

// Shutdown flushes pending spans and metrics and stops both providers. It honours ctx's
// deadline; spans still queued when it expires are lost. Shutdown on a nil *Telemetry does
// nothing, so callers need not check whether telemetry was set up.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return errors.Join(t.tracerProvider.Shutdown(ctx), t.meterProvider.Shutdown(ctx))
}

// noSpanExporter is the fallback when OTEL_TRACES_EXPORTER is unset: Setup recognises it
// and registers no span processor at all, rather than batching spans to throw them away.
type noSpanExporter struct{}

func (noSpanExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (noSpanExporter) Shutdown(context.Context) error                             { return nil }

// noMetricReader is the fallback when OTEL_METRICS_EXPORTER is unset; Setup recognises it
// and does not register it. It embeds a ManualReader only because sdkmetric.Reader cannot
// be implemented outside the SDK.
type noMetricReader struct {
	*sdkmetric.ManualReader
}
