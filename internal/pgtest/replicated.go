package pgtest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
)

// Replicated is a Postgres cluster of the test's own and a hot standby streaming from it,
// for tests of what reads from a replica. Both are made by deploy/local/postgres.sh (start,
// then standby: pg_basebackup -R from the running primary) with the test profile unless
// PG_PROFILE says otherwise, on free loopback ports, and destroyed when the test ends.
type Replicated struct {
	// Primary and Standby are the owner's URLs of database passage on each; Primary is
	// migrated, Standby follows it.
	Primary, Standby string

	standbyName string
	standbyPort int
}

// NewReplicated starts a primary, migrates it, starts its standby and waits until the
// standby has replayed the migrations. It does not use DATABASE_URL: a standby copies a
// whole cluster, so the test gets clusters of its own.
func NewReplicated(t testing.TB) *Replicated {
	t.Helper()
	suffix := randomSuffix()[:10]
	primaryName, standbyName := "pgtest-"+suffix+"-primary", "pgtest-"+suffix+"-standby"
	ports := FreePorts(t, 2)
	t.Cleanup(func() {
		// The standby first: stopping the primary first would leave it retrying.
		for _, name := range []string{standbyName, primaryName} {
			if _, err := postgresSh("destroy", name); err != nil {
				t.Errorf("pgtest: destroy %s: %v", name, err)
			}
		}
	})
	primary, err := postgresSh("start", primaryName, strconv.Itoa(ports[0]))
	if err != nil {
		t.Fatalf("pgtest: primary: %v", err)
	}
	// The standby is copied while the primary is migrated: it replays the migrations as
	// it streams them.
	var standby string
	var standbyErr error
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		standby, standbyErr = postgresSh("standby", standbyName, strconv.Itoa(ports[1]), strconv.Itoa(ports[0]))
	}()
	migrateErr := database.Migrate(primary)
	<-copied
	if migrateErr != nil {
		t.Fatalf("pgtest: migrate the primary: %v", migrateErr)
	}
	if standbyErr != nil {
		t.Fatalf("pgtest: standby: %v", standbyErr)
	}
	r := &Replicated{Primary: primary, Standby: standby, standbyName: standbyName, standbyPort: ports[1]}
	r.AwaitReplay(t)
	return r
}

// Connect opens a connection to url (one of the test's databases), closed when the test ends.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// StopStandby stops the standby (fast shutdown), as an outage would take it away.
func (r *Replicated) StopStandby(t testing.TB) {
	t.Helper()
	if _, err := postgresSh("stop", r.standbyName); err != nil {
		t.Fatalf("pgtest: stop the standby: %v", err)
	}
}

// StartStandby starts the stopped standby again on its port; it resumes streaming from
// where it stopped.
func (r *Replicated) StartStandby(t testing.TB) {
	t.Helper()
	if _, err := postgresSh("start", r.standbyName, strconv.Itoa(r.standbyPort)); err != nil {
		t.Fatalf("pgtest: start the standby: %v", err)
	}
}

// PauseReplay pauses the standby's replay and waits until it is paused (pg_wal_replay_pause
// only asks), so that what the primary writes from then on waits on the standby. resume
// resumes replay; called again, it does nothing.
func (r *Replicated) PauseReplay(t testing.TB) (resume func()) {
	t.Helper()
	ctx := context.Background()
	owner := Connect(t, r.Standby)
	if _, err := owner.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatalf("pgtest: pause replay: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var state string
		if err := owner.QueryRow(ctx, `SELECT pg_get_wal_replay_pause_state()`).Scan(&state); err != nil {
			t.Fatalf("pgtest: replay's state: %v", err)
		}
		if state == "paused" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgtest: replay still %s 30 s after it was paused", state)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resumed := false
	return func() {
		t.Helper()
		if resumed {
			return
		}
		resumed = true
		if _, err := owner.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
			t.Fatalf("pgtest: resume replay: %v", err)
		}
	}
}

// AwaitReplay waits until the standby has replayed everything the primary had written when
// it was called (its WAL insert position), so that what committed before is visible there.
func (r *Replicated) AwaitReplay(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	primary, err := pgx.Connect(ctx, r.Primary)
	if err != nil {
		t.Fatalf("pgtest: connect to the primary: %v", err)
	}
	defer primary.Close(ctx)
	var lsn string
	if err := primary.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&lsn); err != nil {
		t.Fatalf("pgtest: primary's WAL position: %v", err)
	}
	standby, err := pgx.Connect(ctx, r.Standby)
	if err != nil {
		t.Fatalf("pgtest: connect to the standby: %v", err)
	}
	defer standby.Close(ctx)
	for {
		var replayed bool
		if err := standby.QueryRow(ctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", lsn).Scan(&replayed); err != nil {
			t.Fatalf("pgtest: standby's replay position: %v", err)
		}
		if replayed {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pgtest: the standby has not replayed %s in a minute", lsn)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// postgresSh runs deploy/local/postgres.sh with the test profile (PG_PROFILE=dev, set, keeps
// durability on, for benchmarks that measure what production pays) and returns what it
// printed (a URL, for start and standby); its log is in the error when it fails.
func postgresSh(args ...string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "local", "postgres.sh")
	cmd := exec.Command(script, args...)
	cmd.Env = os.Environ()
	if os.Getenv("PG_PROFILE") == "" {
		cmd.Env = append(cmd.Env, "PG_PROFILE=test")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &scriptError{err: err, log: stderr.String()}
	}
	return strings.TrimSpace(stdout.String()), nil
}

type scriptError struct {
	err error
	log string
}

func (e *scriptError) Error() string { return "postgres.sh: " + e.err.Error() + "\n" + e.log }

// FreePorts returns n distinct loopback ports free at the time of the call: each is held
// until all n are chosen. Another process could take one before it is used; nothing in the
// tests waits long enough between for that to be likely.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pgtest: free port: %v", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
