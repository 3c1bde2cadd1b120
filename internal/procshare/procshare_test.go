package procshare_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/procshare"
)

// The kind and role the tests count, as intake's processes do.
const (
	kind = "intake"
	role = "passage_intake"
)

// open connects to url as role under name (none when empty); close it with the returned func,
// which the test's end calls too.
func open(t *testing.T, url, role, name string) (*pgxpool.Pool, func()) {
	t.Helper()
	p, err := database.Open(context.Background(), database.PoolConfig{AdminURL: url, Role: role, ApplicationName: name})
	if err != nil {
		t.Fatalf("pool as %s: %v", role, err)
	}
	t.Cleanup(p.Close)
	return p, p.Close
}

// process is one intake process's pool, under a name of its own.
func process(t *testing.T, url string) (*pgxpool.Pool, func()) {
	t.Helper()
	return open(t, url, role, procshare.ApplicationName(kind, procshare.NewProcessID()))
}

// gone waits until no session of the database is named name: a closed pool's sessions end
// as Postgres reads their goodbye, a moment after Close returns.
func gone(t *testing.T, owner *pgxpool.Pool, name string) {
	t.Helper()
	ctx := context.Background()
	for {
		var n int
		if err := owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if err := owner.Ping(ctx); err != nil { // a round trip, so as not to spin
			t.Fatal(err)
		}
	}
}

// Two processes on one database each take half of a budget of two, as the intake role (a
// non-superuser) sees the other's sessions; once one has gone, the other takes it all.
func TestProcessesShareTheBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.New(t)
	owner, _ := open(t, url, "", "")
	nameB := procshare.ApplicationName(kind, procshare.NewProcessID())
	a, _ := process(t, url)
	b, closeB := open(t, url, role, nameB)
	// Not intake processes: another role under an intake name, the owner under one, and an
	// intake pool without a name.
	open(t, url, "passage_referral", procshare.ApplicationName(kind, "impostor"))
	open(t, url, "", procshare.ApplicationName(kind, "owner"))
	open(t, url, role, "")

	var sharesA, sharesB []int
	divA := procshare.New(a, procshare.Config{Kind: kind, Budget: 2, Apply: func(n int) { sharesA = append(sharesA, n) }})
	divB := procshare.New(b, procshare.Config{Kind: kind, Budget: 2, Apply: func(n int) { sharesB = append(sharesB, n) }})
	if n, err := procshare.Count(ctx, a, kind); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want the two intake processes", n, err)
	}
	for name, d := range map[string]*procshare.Divider{"A": divA, "B": divB} {
		if share, err := d.Derive(ctx); err != nil || share != 1 {
			t.Errorf("process %s's share = %d, %v; want 1 of 2", name, share, err)
		}
	}

	closeB()
	gone(t, owner, nameB)
	if share, err := divA.Derive(ctx); err != nil || share != 2 {
		t.Errorf("process A's share alone = %d, %v; want 2", share, err)
	}
	if share, err := divA.Derive(ctx); err != nil || share != 2 {
		t.Errorf("process A's share alone, again = %d, %v; want 2", share, err)
	}
	if len(sharesA) != 2 || sharesA[0] != 1 || sharesA[1] != 2 || len(sharesB) != 1 || sharesB[0] != 1 {
		t.Errorf("shares applied: A %v, B %v; want A [1 2] (each change once), B [1]", sharesA, sharesB)
	}
}

// A running Divider notices a process that starts and one that ends, each at its next count.
func TestRunFollowsProcesses(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	owner, _ := open(t, url, "", "")
	a, _ := process(t, url)
	shares := make(chan int, 8)
	d := procshare.New(a, procshare.Config{Kind: kind, Budget: 3, Period: procshare.Period / 100,
		Apply: func(n int) { shares <- n }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	if got := <-shares; got != 3 {
		t.Errorf("share alone = %d, want the budget, 3", got)
	}
	nameB := procshare.ApplicationName(kind, procshare.NewProcessID())
	_, closeB := open(t, url, role, nameB)
	if got := <-shares; got != 1 {
		t.Errorf("share beside a second process = %d, want 1 (3/2, rounded down)", got)
	}
	closeB()
	gone(t, owner, nameB)
	if got := <-shares; got != 3 {
		t.Errorf("share once the second process has gone = %d, want 3", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run ended with %v, want nil at shutdown", err)
	}
}

// A count that fails leaves the share as it was.
func TestFailedCountKeepsTheShare(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	a, closeA := process(t, url)
	var applied []int
	d := procshare.New(a, procshare.Config{Kind: kind, Budget: 2, Apply: func(n int) { applied = append(applied, n) }})
	if share, err := d.Derive(context.Background()); err != nil || share != 2 {
		t.Fatalf("share alone = %d, %v", share, err)
	}
	closeA()
	if share, err := d.Derive(context.Background()); err == nil || share != 2 {
		t.Errorf("Derive on a closed pool = %d, %v; want an error and the share as it was, 2", share, err)
	}
	if len(applied) != 1 {
		t.Errorf("shares applied %v, want only the first", applied)
	}
}

func TestShare(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ budget, live, want int }{
		{2, 0, 2}, {2, 1, 2}, {2, 2, 1}, {2, 3, 1}, {4, 2, 2}, {4, 3, 1}, {5, 2, 2}, {1, 4, 1}, {16, 4, 4},
	} {
		if got := procshare.Share(c.budget, c.live); got != c.want {
			t.Errorf("Share(%d, %d) = %d, want %d", c.budget, c.live, got, c.want)
		}
	}
}

func TestApplicationName(t *testing.T) {
	t.Parallel()
	a, b := procshare.NewProcessID(), procshare.NewProcessID()
	if a == b {
		t.Errorf("two process ids are both %q", a)
	}
	name := procshare.ApplicationName(kind, a)
	// Postgres keeps 63 bytes of an application_name, printable ASCII.
	if !strings.HasPrefix(name, "passage-intake/") || len(name) > 63 || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r > '~' }) {
		t.Errorf("application name %q: want passage-intake/ and an id, printable ASCII, at most 63 bytes", name)
	}
}
