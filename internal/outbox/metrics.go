package outbox

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/passage-cm/passage/internal/telemetry"
)

// Meter is the name of the meter the consumers' instruments are created on.
const Meter = "github.com/passage-cm/passage/internal/outbox"

// Names of the consumer's instruments (OpenTelemetry; Prometheus shows the dots as
// underscores and adds the unit: passage_outbox_consumer_oldest_age_seconds).
const (
	MetricBacklog   = "passage.outbox.consumer.backlog"
	MetricOldestAge = "passage.outbox.consumer.oldest_age"
)

// BacklogCap bounds the events the backlog gauge counts, so that a scrape costs at most that
// many index entries however far a consumer has fallen behind: the gauge reads BacklogCap
// when the backlog is at least that.
const BacklogCap = 100_000

// collectTimeout bounds the look-up a scrape makes: a scrape must answer even while the
// database does not (readiness reports the outage).
const collectTimeout = time.Second

// observe registers the consumer's gauges on its meter provider for as long as Run runs:
// the events past its cursor (committed or not yet past the horizon; at most BacklogCap) and
// the age, in seconds, of the oldest of them (0 when there are none). Both are computed by
// one cheap query when the metrics are collected, and absent from a collection whose query
// failed (the database unreachable). The only attribute is the consumer's name.
func (c *Consumer) observe() (unregister func() error, err error) {
	return telemetry.ObserveLag(c.cfg.MeterProvider.Meter(Meter), telemetry.LagGauges{
		Backlog: MetricBacklog, OldestAge: MetricOldestAge, Unit: "{event}",
		BacklogHelp:   "Outbox events past the consumer's cursor, not yet applied (at most 100000)",
		OldestAgeHelp: "Age of the oldest outbox event past the consumer's cursor (0 when there is none)",
	}, c.Lag, attribute.String("consumer", c.cfg.Name))
}

// Lag returns how many events lie past their partition's cursor (at most BacklogCap in all)
// and how long ago the oldest of them occurred (0 when there is none), by the database's
// clock.
func (c *Consumer) Lag(ctx context.Context) (backlog int64, oldest time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	if err := c.ensure(ctx); err != nil {
		return 0, 0, fmt.Errorf("outbox: %s lag: %w", c.cfg.Name, err)
	}
	var age float64
	err = c.db.OutboxConsumer(c.cfg.Name).QueryRow(ctx, `SELECT count(*),
  coalesce(extract(epoch FROM clock_timestamp() - min(occurred_at)), 0)::float8
FROM (SELECT behind.occurred_at FROM `+c.cfg.CursorTable+` c CROSS JOIN LATERAL (
        SELECT e.occurred_at FROM outbox.event e
        WHERE `+c.pastCursor("c")+`
        ORDER BY e.tx_id, e.event_id
        LIMIT $2) behind
      WHERE c.name = $1
      LIMIT $2) behind`, c.cfg.Name, BacklogCap).Scan(&backlog, &age)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: %s lag: %w", c.cfg.Name, err)
	}
	return backlog, time.Duration(max(age, 0) * float64(time.Second)), nil
}
