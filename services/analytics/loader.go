package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/failurelog"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// Loader keeps a cube in step with analytics.rollup. Each refresh reads, in one statement
// (one snapshot), the commit horizon and the rows changed by transactions between the
// previous horizon and this one: every transaction below the horizon has ended, so a row
// that commits late is read at a later refresh, never skipped.
type Loader struct {
	db   *database.DB
	cube *cube.Cube

	mu      sync.Mutex
	horizon string // xid8, as text

	now func() time.Time
	// asOf is when the last refresh that succeeded began (Unix nanoseconds, 0 before the
	// first): read without mu, which a refresh holds for as long as it reads.
	asOf atomic.Int64
}

// NewLoader returns a loader that fills c from the rollup, read through db (the query role,
// declared for HQ).
func NewLoader(db *database.DB, c *cube.Cube) *Loader {
	return &Loader{db: db, cube: c, horizon: "0", now: time.Now}
}

// AsOf returns when the last successful refresh began, by the loader's clock, and false
// before the first. The cube holds every change the refresh's snapshot saw; a change
// committed shortly before it, while an older transaction was still open, comes with the
// next refresh.
func (l *Loader) AsOf() (time.Time, bool) {
	ns := l.asOf.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns).UTC(), true
}

// largeRefresh is a refresh after which the garbage is handed back to the system at once.
const largeRefresh = 1 << 16

// Refresh applies the rows changed since the last refresh and returns how many.
func (l *Loader) Refresh(ctx context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	started := l.now()
	rows, err := l.db.Mission(auth.MissionHQ).Query(ctx, `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS h)
SELECT h.h::text, r.measure, r.year, r.programme, r.sex, r.age_band, r.nationality, r.host_country,
  r.return_country, r.vulnerabilities, r.assistance_type, r.exploitation_types, r.referral_status,
  r.partner_type, r.referral_direction, r.persons
FROM h LEFT JOIN analytics.rollup r ON r.tx_id >= $1::xid8 AND r.tx_id < h.h`, l.horizon)
	if err != nil {
		return 0, fmt.Errorf("analytics: refresh: %w", err)
	}
	var (
		horizon string
		batch   []cube.Row
	)
	for rows.Next() {
		var (
			measure, programme, sex, band, nat, host, ret, assistance *string
			status, partner, direction                                *string
			year                                                      *int16
			vulns, exploit                                            []string
			persons                                                   *int64
		)
		if err := rows.Scan(&horizon, &measure, &year, &programme, &sex, &band, &nat, &host, &ret, &vulns,
			&assistance, &exploit, &status, &partner, &direction, &persons); err != nil {
			rows.Close()
			return 0, fmt.Errorf("analytics: refresh: %w", err)
		}
		if measure == nil {
			continue // no row changed: the LEFT JOIN's one row carries the horizon alone
		}
		batch = append(batch, cube.Row{
			Measure: *measure, Year: int(*year), Programme: *programme, Sex: *sex, AgeBand: *band,
			Nationality: *nat, HostCountry: *host, ReturnCountry: *ret, Vulnerabilities: vulns,
			AssistanceType: *assistance, ExploitationTypes: exploit, ReferralStatus: *status, PartnerType: *partner,
			ReferralDirection: *direction, Persons: *persons,
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("analytics: refresh: %w", err)
	}
	// One Apply for the whole refresh: a query sees all of it or none of it, never a part
	// of the first load. A row the cube cannot hold is reported, not retried: the same row
	// would fail again.
	applyErr := l.cube.Apply(batch)
	applied := len(batch)
	batch = nil
	if horizon != "" {
		l.horizon = horizon
	}
	if applied > largeRefresh {
		// A refresh this large is the first (or one after an outage): the decoded rows and
		// the cube's outgrown arrays are garbage now, gigabytes at ten million persons, which
		// the runtime would otherwise return to the system only slowly.
		debug.FreeOSMemory()
	}
	if applyErr != nil {
		return applied, fmt.Errorf("analytics: refresh: %w", applyErr)
	}
	l.asOf.Store(started.UnixNano())
	return applied, nil
}

// Run refreshes every interval until ctx ends. A failed refresh is logged (see failurelog)
// and retried at the next tick: the cube keeps answering from what it holds.
func (l *Loader) Run(ctx context.Context, interval time.Duration, logger *slog.Logger) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	failures := failurelog.New(logger, "analytics: refresh")
	for {
		switch _, err := l.Refresh(ctx); {
		case ctx.Err() != nil:
		case err != nil:
			failures.Failed(ctx, err)
		default:
			failures.Succeeded(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
