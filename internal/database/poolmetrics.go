package database

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the pool instruments (Prometheus: passage_db_pool_acquired, …,
// passage_db_pool_acquires_total, passage_db_pool_empty_acquire_wait_seconds_total).
const (
	MetricPoolAcquired         = "passage.db.pool.acquired"
	MetricPoolIdle             = "passage.db.pool.idle"
	MetricPoolTotal            = "passage.db.pool.total"
	MetricPoolMax              = "passage.db.pool.max"
	MetricPoolAcquires         = "passage.db.pool.acquires"
	MetricPoolAcquireDuration  = "passage.db.pool.acquire.duration"
	MetricPoolEmptyAcquires    = "passage.db.pool.empty_acquires"
	MetricPoolEmptyAcquireWait = "passage.db.pool.empty_acquire.wait"
	MetricPoolCanceledAcquires = "passage.db.pool.canceled_acquires"
	poolMeter                  = "github.com/passage-cm/passage/internal/database"
	poolConnectionUnit         = "{connection}"
	poolAcquireUnit            = "{acquire}"
)

// ObservePool reports pool's statistics as metrics on mp, with the attribute pool=name (the
// database role, "passage_intake"): connections acquired, idle, open and allowed, and the
// running totals of acquires, of the time they took, and of those that found no idle
// connection and waited (the sign of a pool too small for its load). The values are read
// from the pool when the metrics are collected, at no cost to the database. Call the returned
// function before closing the pool.
func ObservePool(mp metric.MeterProvider, name string, pool *pgxpool.Pool) (unregister func() error, err error) {
	m := mp.Meter(poolMeter)
	gauge := func(n, desc string) (metric.Int64ObservableGauge, error) {
		return m.Int64ObservableGauge(n, metric.WithUnit(poolConnectionUnit), metric.WithDescription(desc))
	}
	counter := func(n, unit, desc string) (metric.Int64ObservableCounter, error) {
		return m.Int64ObservableCounter(n, metric.WithUnit(unit), metric.WithDescription(desc))
	}
	seconds := func(n, desc string) (metric.Float64ObservableCounter, error) {
		return m.Float64ObservableCounter(n, metric.WithUnit("s"), metric.WithDescription(desc))
	}
	// Instrument creation fails only on an invalid name; these are constants, and a failed
	// instrument is a no-op one, so the errors are not worth a failed start.
	acquired, _ := gauge(MetricPoolAcquired, "Connections of the pool in use")
	idle, _ := gauge(MetricPoolIdle, "Connections of the pool idle")
	total, _ := gauge(MetricPoolTotal, "Connections of the pool open or being opened")
	maxConns, _ := gauge(MetricPoolMax, "Most connections the pool may open")
	acquires, _ := counter(MetricPoolAcquires, poolAcquireUnit, "Connections acquired from the pool")
	acquireDuration, _ := seconds(MetricPoolAcquireDuration, "Total time spent acquiring connections")
	empty, _ := counter(MetricPoolEmptyAcquires, poolAcquireUnit, "Acquires that found no idle connection and waited for one")
	emptyWait, _ := seconds(MetricPoolEmptyAcquireWait, "Total time acquires waited because no connection was idle")
	canceled, _ := counter(MetricPoolCanceledAcquires, poolAcquireUnit, "Acquires given up by their caller before a connection came")
	attrs := metric.WithAttributes(attribute.String("pool", name))
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := pool.Stat()
		o.ObserveInt64(acquired, int64(s.AcquiredConns()), attrs)
		o.ObserveInt64(idle, int64(s.IdleConns()), attrs)
		o.ObserveInt64(total, int64(s.TotalConns()), attrs)
		o.ObserveInt64(maxConns, int64(s.MaxConns()), attrs)
		o.ObserveInt64(acquires, s.AcquireCount(), attrs)
		o.ObserveFloat64(acquireDuration, s.AcquireDuration().Seconds(), attrs)
		o.ObserveInt64(empty, s.EmptyAcquireCount(), attrs)
		o.ObserveFloat64(emptyWait, s.EmptyAcquireWaitTime().Seconds(), attrs)
		o.ObserveInt64(canceled, s.CanceledAcquireCount(), attrs)
		return nil
	}, acquired, idle, total, maxConns, acquires, acquireDuration, empty, emptyWait, canceled)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
