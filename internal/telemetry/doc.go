// Package telemetry sets up OpenTelemetry tracing and metrics for a Passage process.
//
// Exporters follow the standard OTEL_* environment variables but default to exporting
// nothing, so a laptop or a mission server without a collector runs quietly; metrics are
// always also served in the Prometheus text format for a local scraper. [ObserveLag] gives a
// queue that a worker drains (the outbox, the audit chain) its backlog and oldest-age gauges.
package telemetry
