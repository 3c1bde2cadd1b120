package bootstrap

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/server"
)

// TestOpenReplica: a replica URL that connects as the service's role opens; one left with
// another user (the owner's, here) is refused, naming the role, never the URL.
func TestOpenReplica(t *testing.T) {
	t.Parallel()
	const role = "passage_analytics"
	owner := pgtest.New(t)
	asRole, err := database.RoleURL(owner, role)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url, refusal string
	}{
		{"the role", asRole, ""},
		{"the owner", owner, "not the service's role " + role},
	} {
		p, err := openReplica(t.Context(), tt.url, role, 2)
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.refusal == "":
			p.Close()
		case err == nil || !strings.Contains(err.Error(), tt.refusal) || strings.Contains(err.Error(), "postgres://"):
			t.Errorf("%s: %v, want a refusal naming the role", tt.name, err)
		}
	}
}

// TestReplicaCheck: against a real primary and standby, the check passes while the standby
// keeps up, fails with server.ErrLagging once WAL the primary wrote has waited longer than
// the bound for replay (replay paused; the check's clock moved past the bound, so that
// nothing is timed), passes again once the standby caught up, and fails otherwise (not
// lagging) while the standby is down. A primary given as the replica is never behind.
func TestReplicaCheck(t *testing.T) {
	t.Parallel()
	const role = "passage_analytics"
	r := pgtest.NewReplicated(t)
	ctx := t.Context()
	open := func(url string) *pgxpool.Pool {
		p, err := database.Open(ctx, database.PoolConfig{AdminURL: url, Role: role, MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	primary, standby := open(r.Primary), open(r.Standby)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	check := newReplicaCheck(primary, standby, 5*time.Second)
	check.now = func() time.Time { return now }
	if err := check.Ping(ctx); err != nil {
		t.Fatalf("a standby that keeps up: %v", err)
	}

	resume := r.PauseReplay(t)
	if _, err := pgtest.Connect(t, r.Primary).Exec(ctx, `CREATE TABLE lag_probe (x int)`); err != nil {
		t.Fatal(err)
	}
	if err := check.Ping(ctx); err != nil {
		t.Fatalf("WAL unreplayed for no time yet: %v", err)
	}
	now = now.Add(4 * time.Second)
	if err := check.Ping(ctx); err != nil {
		t.Fatalf("unreplayed for 4s, bound 5s: %v", err)
	}
	now = now.Add(2 * time.Second)
	if err := check.Ping(ctx); !errors.Is(err, server.ErrLagging) {
		t.Fatalf("unreplayed for 6s, bound 5s: %v, want ErrLagging", err)
	}

	resume()
	r.AwaitReplay(t)
	now = now.Add(time.Second)
	if err := check.Ping(ctx); err != nil {
		t.Fatalf("caught up: %v", err)
	}

	r.StopStandby(t)
	if err := check.Ping(ctx); err == nil || errors.Is(err, server.ErrLagging) {
		t.Errorf("standby down: %v, want a failure that is not lagging", err)
	}
	r.StartStandby(t)

	self := newReplicaCheck(primary, primary, time.Second)
	self.now = check.now
	for range 2 {
		if err := self.Ping(ctx); err != nil {
			t.Errorf("a primary as its own replica: %v", err)
		}
		now = now.Add(time.Hour)
	}
}
