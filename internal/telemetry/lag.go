package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// LagGauges names the two gauges of a queue that a worker drains (the outbox behind a
// consumer, the audit records behind the chainer): how many items wait and how old the
// oldest of them is.
type LagGauges struct {
	// Backlog and OldestAge are the instruments' names.
	Backlog, OldestAge string
	// Unit is the backlog's unit, such as "{event}".
	Unit string
	// BacklogHelp and OldestAgeHelp are the instruments' descriptions.
	BacklogHelp, OldestAgeHelp string
}

// ObserveLag registers g's gauges on m, both computed by one call of lag when the metrics are
// collected, with attrs on each value, until unregister is called. A collection whose lag
// call fails has no value rather than an error: OpenTelemetry would log the error, with the
// database's address, on every scrape of an outage that readiness already reports
// (passage.server.ready).
func ObserveLag(m metric.Meter, g LagGauges, lag func(context.Context) (int64, time.Duration, error), attrs ...attribute.KeyValue) (unregister func() error, err error) {
	backlog, err := m.Int64ObservableGauge(g.Backlog, metric.WithUnit(g.Unit), metric.WithDescription(g.BacklogHelp))
	if err != nil {
		return nil, err
	}
	age, err := m.Float64ObservableGauge(g.OldestAge, metric.WithUnit("s"), metric.WithDescription(g.OldestAgeHelp))
	if err != nil {
		return nil, err
	}
	set := metric.WithAttributes(attrs...)
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, oldest, err := lag(ctx)
		if err != nil {
			return nil
		}
		o.ObserveInt64(backlog, n, set)
		o.ObserveFloat64(age, oldest.Seconds(), set)
		return nil
	}, backlog, age)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
