package procshare

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/middleware"
)

// Period is how often a Divider counts the live processes by default: a process that starts
// or ends changes the others' share within it.
const Period = 2 * time.Second

// lookTimeout bounds one count, so that a database that stopped answering does not hold the
// Divider: the share stays as it was until a count succeeds.
const lookTimeout = 10 * time.Second

// NewProcessID returns a random id for this process's application names (crypto/rand.Text,
// 26 characters): it tells processes apart and says nothing about the host or anyone.
func NewProcessID() string {
	return rand.Text()
}

// ApplicationName is the application_name of the connections of a service of kind ("intake",
// a bootstrap.Service's Short) in process: "passage-intake/0f3a...".
func ApplicationName(kind, process string) string {
	return prefix(kind) + process
}

func prefix(kind string) string { return "passage-" + kind + "/" }

// Share is each of live processes' share of budget: budget / live, at least 1. No process
// counted (a count that missed its own, unnamed pool) is one.
func Share(budget, live int) int {
	return max(1, budget/max(1, live))
}

// Querier runs the count: a pool connected as the service's role, under its application name.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// countSQL counts the processes of a kind: the distinct application names of its prefix among
// the current database's client sessions of the counting role.
const countSQL = `SELECT count(DISTINCT application_name) FROM pg_stat_activity
WHERE datname = current_database() AND usename = current_user AND backend_type = 'client backend'
  AND starts_with(application_name, $1)`

// Count returns how many processes of kind have a session on q's database, as q's role.
func Count(ctx context.Context, q Querier, kind string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, countSQL, prefix(kind)).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// Config says what a Divider divides.
type Config struct {
	// Kind is the processes' service ("intake"), as their ApplicationName says.
	Kind string
	// Budget is the setting for the whole database (at least 1).
	Budget int
	// Period is how often the processes are counted (default Period).
	Period time.Duration
	// Apply receives this process's share: at the first count, then whenever it changes. It
	// must be safe to call from the Divider's goroutine (groupcommit.Batcher.SetMaxInFlight).
	Apply func(share int)
	// Logger gets a warning when a count fails (default slog.Default()).
	Logger *slog.Logger
}

// Divider keeps one process's share of a budget as the live processes come and go.
type Divider struct {
	q     Querier
	cfg   Config
	share int // the share last applied; 0 before the first
}

// New returns a Divider that counts through q.
func New(q Querier, cfg Config) *Divider {
	if cfg.Period <= 0 {
		cfg.Period = Period
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Budget = max(1, cfg.Budget)
	return &Divider{q: q, cfg: cfg}
}

// Derive counts the live processes once and applies this process's share, when it changed.
// On failure the share stays as it was. Derive is not safe for concurrent use: Run calls it.
func (d *Divider) Derive(ctx context.Context) (share int, err error) {
	ctx, cancel := context.WithTimeout(ctx, lookTimeout)
	defer cancel()
	live, err := Count(ctx, d.q, d.cfg.Kind)
	if err != nil {
		return d.share, err
	}
	if share = Share(d.cfg.Budget, live); share != d.share {
		d.share = share
		d.cfg.Apply(share)
	}
	return share, nil
}

// Run derives the share at once, then every Period, until ctx ends; it returns nil then. A
// failed count changes nothing, and is logged once until one succeeds again.
func (d *Divider) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Period)
	defer t.Stop()
	failing := false
	for {
		if _, err := d.Derive(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				d.cfg.Logger.WarnContext(ctx, "cannot count the live processes; the share stays as it was",
					"kind", d.cfg.Kind, "share", d.share, middleware.ErrorAttr(err))
			}
			failing = true
		} else if err == nil {
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
