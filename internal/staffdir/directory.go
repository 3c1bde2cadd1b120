package staffdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/failurelog"
	"github.com/passage-cm/passage/internal/middleware"
)

// Channel is the Postgres notification channel intake.staff_member's triggers announce every
// change on, in the changing transaction.
const Channel = "passage_staff"

// Defaults of Config.
const (
	// DefaultReload is how often the whole directory is read again, should a notification
	// ever be missed without the connection failing.
	DefaultReload = 5 * time.Minute
	// touchEvery is how stale a member's last_seen_at may be before a call of theirs
	// refreshes it: about once a day, so that admitting a call almost never writes.
	touchEvery = 20 * time.Hour
	// retryWait bounds the wait between attempts to listen again after a failure.
	retryWait = 2 * time.Second
)

// Config is what a Directory needs besides its pool.
type Config struct {
	// Mode is PASSAGE_STAFF_DIRECTORY: ModeClaims when empty.
	Mode Mode
	// Reload is how often the whole directory is read again; DefaultReload when 0.
	Reload time.Duration
	// Logger receives the directory's failures (never a staff id). slog.Default when nil.
	Logger *slog.Logger
	// Clock is time.Now when nil.
	Clock func() time.Time
}

// Directory is one process's copy of the staff directory, kept fresh by the changes' own
// notifications. Build it with Open, run Run beside the server, and admit calls with Admit.
type Directory struct {
	pool *pgxpool.Pool
	cfg  Config

	mu      sync.RWMutex
	members map[string]Member
	// changed is closed, and replaced, whenever the copy changes (Await waits on it).
	changed chan struct{}
	// fresh is true while the process listens for changes and has read the directory since
	// it began to: only then does the copy say what the database says.
	fresh atomic.Bool
	// conn is the listening connection: Open's, then Run's own.
	conn *pgx.Conn
	// applied is called after each notification is applied (tests wait on it); nil in
	// production.
	applied func(Member)
}

// Open reads the whole directory and starts listening for its changes, on a connection of its
// own made as pool makes its (with pool's role: every service role reads the directory, see
// migration 000039), so that a process admits no call before it knows who may make it.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Directory, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeClaims
	}
	if cfg.Reload <= 0 {
		cfg.Reload = DefaultReload
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	d := &Directory{pool: pool, cfg: cfg, members: map[string]Member{}, changed: make(chan struct{})}
	if err := d.listen(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// listen connects, listens on Channel, then reads the whole
// directory: a change committed in between is both read and announced, and applying it twice
// is harmless (versions only move forward).
func (d *Directory) listen(ctx context.Context) error {
	// A connection of its own, made as the pool makes its own, never one taken from the pool:
	// the pool keeps its size, and a connection it holds is never held for good.
	conn, err := pgx.ConnectConfig(ctx, d.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("staff directory: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return fmt.Errorf("staff directory: listen: %w", err)
	}
	if err := d.reload(ctx, conn); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return err
	}
	d.conn = conn
	d.fresh.Store(true)
	return nil
}

// reload reads every member on conn, replacing the copy.
func (d *Directory) reload(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT staff_id, mission, role, active, provisioned_by, version, coalesce(last_seen_at, 'epoch')
FROM intake.staff_member`)
	if err != nil {
		return fmt.Errorf("staff directory: read: %w", err)
	}
	members := map[string]Member{}
	var m Member
	if _, err := pgx.ForEachRow(rows, []any{&m.StaffID, &m.Mission, &m.Role, &m.Active, &m.ProvisionedBy, &m.Version, &m.lastSeen}, func() error {
		members[m.StaffID] = m
		return nil
	}); err != nil {
		return fmt.Errorf("staff directory: read: %w", err)
	}
	d.mu.Lock()
	d.members = members
	d.broadcast()
	d.mu.Unlock()
	return nil
}

// broadcast wakes the callers of Await; d.mu is held.
func (d *Directory) broadcast() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// Await returns once this process's copy holds staffID at version or later, or ctx's error:
// a change's author waits for it (StaffService), so that its answer means the process that
// gives it already refuses a member it deactivated.
func (d *Directory) Await(ctx context.Context, staffID string, version int64) error {
	for {
		d.mu.RLock()
		m, ok := d.members[staffID]
		changed := d.changed
		d.mu.RUnlock()
		if ok && m.Version >= version {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Run applies the directory's changes as they are announced, and reads it whole every
// Config.Reload, until ctx ends. When the listening connection fails, the copy is no longer
// trusted (Admit refuses calls UNAVAILABLE) until the process listens and has read the
// directory again, which it tries every few seconds.
func (d *Directory) Run(ctx context.Context) error {
	defer func() {
		if d.conn != nil {
			_ = d.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	next := time.Now().Add(d.cfg.Reload)
	// Logged as "staff directory: listening for changes failed": calls are refused until it
	// listens again.
	failures := failurelog.New(d.cfg.Logger, "staff directory: listening for changes")
	for ctx.Err() == nil {
		if d.conn == nil {
			if err := d.listen(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				failures.Failed(ctx, err)
				select {
				case <-ctx.Done():
				case <-time.After(retryWait):
				}
				continue
			}
			failures.Succeeded(ctx)
			next = time.Now().Add(d.cfg.Reload)
		}
		err := d.wait(ctx, &next)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		d.fresh.Store(false)
		d.cfg.Logger.WarnContext(ctx, "staff directory: lost its connection; calls are refused until it listens again", middleware.ErrorAttr(err))
		_ = d.conn.Close(context.WithoutCancel(ctx))
		d.conn = nil
	}
	return nil
}

// wait applies the next notification that arrives before *reloadAt; at *reloadAt it reloads
// and moves *reloadAt on by Config.Reload.
func (d *Directory) wait(ctx context.Context, reloadAt *time.Time) error {
	wctx, cancel := context.WithDeadline(ctx, *reloadAt)
	n, err := d.conn.WaitForNotification(wctx)
	cancel()
	switch {
	case err == nil:
		return d.apply(n.Payload)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// Time for the safety net; the connection was only idle.
		if err := d.reload(ctx, d.conn); err != nil {
			return err
		}
		*reloadAt = time.Now().Add(d.cfg.Reload)
		return nil
	}
	return err
}

// apply takes one announced change into the copy.
func (d *Directory) apply(payload string) error {
	var m Member
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return fmt.Errorf("staff directory: a notification of another form: %w", err)
	}
	d.put(m)
	if d.applied != nil {
		d.applied(m)
	}
	return nil
}

// put keeps m unless the copy already holds the member at a later version; the time last
// seen is kept from the copy when m does not carry one.
func (d *Directory) put(m Member) Member {
	d.mu.Lock()
	defer d.mu.Unlock()
	old, ok := d.members[m.StaffID]
	if ok && old.Version > m.Version {
		return old
	}
	if m.lastSeen.IsZero() && ok {
		m.lastSeen = old.lastSeen
	}
	d.members[m.StaffID] = m
	d.broadcast()
	return m
}

// Lookup returns the member staffID as this process knows them.
func (d *Directory) Lookup(staffID string) (Member, bool) {
	d.mu.RLock()
	m, ok := d.members[staffID]
	d.mu.RUnlock()
	return m, ok
}
