// Package telemetry sets up OpenTelemetry tracing and metrics for a Passage process.
//
// Exporters follow the standard OTEL_* environment variables but default to exporting
// nothing, so a laptop or a mission server without a collector runs quietly; metrics are
// always also served in the Prometheus text format for a local scraper.
package telemetry
