package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/passage-cm/passage/internal/telemetry"
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
// Alike in shape to the outbox consumers' (telemetry.ObserveLag registers both), with gauges
// of its own.
func (c *Chainer) observe() (unregister func() error, err error) {
	return telemetry.ObserveLag(c.cfg.MeterProvider.Meter(Meter), telemetry.LagGauges{
		Backlog: MetricBacklog, OldestAge: MetricOldestAge, Unit: "{record}",
		BacklogHelp:   "Audit records past the chainer's cursor, not yet chained (at most 100000)",
		OldestAgeHelp: "Age of the oldest audit record not yet chained (0 when there is none)",
	}, c.Lag)
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
