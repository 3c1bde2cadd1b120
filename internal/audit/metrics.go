package audit

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Meter is the name of the meter the chainer's instruments are created on.
const Meter = "github.com/passage-cm/passage/internal/audit"

// Names of the chainer's instruments (Prometheus: passage_audit_chainer_backlog,
// passage_audit_chainer_oldest_age_seconds).
const (
	MetricBacklog   = "passage.audit.chainer.backlog"
	MetricOldestAge = "passage.audit.chainer.oldest_age"
)

// BacklogCap bounds the records the backlog gauge counts, so that a scrape costs at most
// that many index entries: the gauge reads BacklogCap when the backlog is at least that.
const BacklogCap = 100_000

// collectTimeout bounds the look-up a scrape makes.
const collectTimeout = time.Second

// observe registers the chainer's gauges for as long as Run runs: the audit records not yet
// chained (at most BacklogCap) and the age of the oldest of them, absent from a collection
// whose query failed. They carry no attribute: one chain cursor serves every mission.
func (c *Chainer) observe() (unregister func() error, err error) {
	m := c.cfg.MeterProvider.Meter(Meter)
	backlog, err := m.Int64ObservableGauge(MetricBacklog, metric.WithUnit("{record}"),
		metric.WithDescription("Audit records past the chainer's cursor, not yet chained (at most 100000)"))
	if err != nil {
		return nil, err
	}
	age, err := m.Float64ObservableGauge(MetricOldestAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest audit record not yet chained (0 when there is none)"))
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, oldest, err := c.Lag(ctx)
		if err != nil {
			// No value rather than an error: OpenTelemetry would log the error, with the
			// database's address, on every scrape of an outage that readiness already
			// reports (passage.server.ready).
			return nil
		}
		o.ObserveInt64(backlog, n)
		o.ObserveFloat64(age, oldest.Seconds())
		return nil
	}, backlog, age)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}

// Lag returns how many audit records are not chained yet (at most BacklogCap) and how long
// ago the oldest of them occurred (0 when there is none), by the database's clock.
func (c *Chainer) Lag(ctx context.Context) (backlog int64, oldest time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	var age float64
	err = c.pool.QueryRow(ctx, `SELECT count(*),
  coalesce(extract(epoch FROM clock_timestamp() - min(occurred_at)), 0)::float8
FROM (SELECT r.occurred_at FROM audit.record r
      WHERE (r.tx_id, r.record_id) > (
        coalesce((SELECT c.tx_id FROM audit.chain_cursor c WHERE c.name = $1), '0'::xid8),
        coalesce((SELECT c.record_id FROM audit.chain_cursor c WHERE c.name = $1), 0))
      ORDER BY r.tx_id, r.record_id
      LIMIT $2) behind`, cursorName, BacklogCap).Scan(&backlog, &age)
	if err != nil {
		return 0, 0, fmt.Errorf("audit: chainer lag: %w", err)
	}
	return backlog, time.Duration(max(age, 0) * float64(time.Second)), nil
}
