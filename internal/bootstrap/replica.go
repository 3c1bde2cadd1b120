package bootstrap

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/server"
)

// openReplica opens a service's pool on its read replica (url, from
// PASSAGE_<SHORT>_REPLICA_DATABASE_URL) and refuses one that does not connect as role: on a
// replica as on the primary, the service's role is what keeps it to the tables it may read,
// and a URL left with the owner's user would read everything.
func openReplica(ctx context.Context, url, role string, maxConns int32) (*pgxpool.Pool, error) {
	p, err := database.Open(ctx, database.PoolConfig{URL: url, Role: role, MaxConns: maxConns})
	if err != nil {
		return nil, err
	}
	var user string
	if err := p.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
		p.Close()
		return nil, fmt.Errorf("database: replica: %w", err)
	}
	if user != role {
		p.Close()
		return nil, fmt.Errorf("database: the replica's connection is user %s, not the service's role %s", user, role)
	}
	return p, nil
}

// defaultReplicaMaxLag is the replica's lag bound of a Config built in code (equal to
// PASSAGE_ANALYTICS_REPLICA_MAX_LAG's tag, which a test checks).
const defaultReplicaMaxLag = 5 * time.Second

// maxWALMarks bounds the primary's WAL positions a replicaCheck keeps: at one a second, an
// hour of a standby that replays nothing, far past any lag bound.
const maxWALMarks = 3600

// replicaCheck is the readiness check of a service's replica: it fails while the replica
// cannot be reached, and with server.ErrLagging while its replay is further behind the
// primary than maxLag.
//
// The lag is measured from the primary's side, so that a standby cut off from its primary
// (whose own view is that it has replayed all it received) is seen to fall behind too: each
// check reads the replica's replay position, then the primary's WAL position, and keeps that
// position and when it was read until the replica has replayed past it. The lag is the age of
// the oldest position kept: the primary had written WAL at that time that the replica has
// still not replayed. Checks a second apart make it at most a second short, never long.
type replicaCheck struct {
	primary, replica *pgxpool.Pool
	maxLag           time.Duration
	now              func() time.Time

	mu    sync.Mutex
	marks []walMark // oldest first, each past the replica's replay position when last checked
}

// walMark is the primary's WAL position (in bytes) at a time.
type walMark struct {
	at  time.Time
	lsn int64
}

func newReplicaCheck(primary, replica *pgxpool.Pool, maxLag time.Duration) *replicaCheck {
	if maxLag <= 0 {
		maxLag = defaultReplicaMaxLag
	}
	return &replicaCheck{primary: primary, replica: replica, maxLag: maxLag, now: time.Now}
}

// Ping implements server.Pinger. Its errors carry no URL: they are the pool's own, which
// server.Watch logs by type only.
func (c *replicaCheck) Ping(ctx context.Context) error {
	// NULL on a server that is not a standby: nothing to replay, never behind.
	var replayed *int64
	if err := c.replica.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint`).Scan(&replayed); err != nil {
		return err
	}
	var written int64
	// The insert position, not the write position: with asynchronous commit a transaction's
	// WAL may wait in the primary's buffers a moment (wal_writer_delay), and it counts from
	// when it was committed.
	if err := c.primary.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint`).Scan(&written); err != nil {
		// The primary's own watch says so; the replica answered.
		return nil
	}
	lag := c.observe(c.now(), replayed, written)
	if lag > c.maxLag {
		return fmt.Errorf("replica: %w: %s behind the primary", server.ErrLagging, lag.Round(time.Millisecond))
	}
	return nil
}

// observe records the primary's position written at now, drops the positions the replica
// has replayed (replayed nil: all of them) and returns the age of the oldest left.
func (c *replicaCheck) observe(now time.Time, replayed *int64, written int64) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marks = append(c.marks, walMark{at: now, lsn: written})
	if len(c.marks) > maxWALMarks {
		c.marks = c.marks[len(c.marks)-maxWALMarks:]
	}
	kept := c.marks[:0]
	for _, m := range c.marks {
		if replayed != nil && m.lsn > *replayed {
			kept = append(kept, m)
		}
	}
	c.marks = kept
	if len(c.marks) == 0 {
		return 0
	}
	return now.Sub(c.marks[0].at)
}
