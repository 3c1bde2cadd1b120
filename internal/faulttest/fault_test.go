package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/retrypolicy"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	// clients register at once, continuously.
	clients = 8
	// step is how many registrations must be acknowledged between two faults, and after
	// the last: each fault is survived, not merely outlasted.
	step = 50
	// rounds is how many times the three faults are dealt, one after the other.
	rounds = 2
	// outageWait bounds how long Postgres stays down.
	outageWait = 3 * time.Second
	// progressWait bounds the wait for step registrations.
	progressWait = 30 * time.Second
	// shown bounds the failures listed one by one.
	shown = 20
	// catchUpWait bounds the wait for the outbox consumers once the load has stopped.
	catchUpWait = 20 * time.Second
)

// cursorTables are the outbox consumers' cursor tables (see internal/outbox), each holding
// one row per consumer.
var cursorTables = []string{
	"returns.outbox_cursor", "trafficking.outbox_cursor", "hasm.outbox_cursor",
	"analytics_state.outbox_cursor", "referral.outbox_cursor",
}

// Registrations under load survive a server killed and restarted, Postgres restarted as
// after a crash, and a server stopped and restarted: see the package doc for what is asserted.
func TestRegistrationsSurviveCrashesAndRestarts(t *testing.T) {
	if !postgresInstalled() {
		t.Skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed: this test runs and restarts a cluster of its own (sudo apt-get install -y postgresql)")
	}
	root := repoRoot(t)
	pg := startCluster(t, root)
	owner := connect(t, pg.url)
	// The test profile turns synchronous commit off for speed: a commit is then acknowledged
	// before its WAL leaves shared memory, and an immediate stop loses it. That would be this
	// cluster losing acknowledged writes, not Passage: commits wait for the WAL to be written
	// here (fsync stays off: what was written survives the processes dying).
	if _, err := owner.Exec(context.Background(), `ALTER SYSTEM SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(context.Background(), `SELECT pg_reload_conf()`); err != nil {
		t.Fatal(err)
	}
	owner.Close(context.Background())

	srv := buildPassage(t, pg.url)
	srv.run(t, "migrate", "up")
	token := srv.run(t, "dev-token", "--role", "caseworker", "--mission", "NER", "--ttl", "1h")
	srv.start(t)

	conn, err := grpc.NewClient(srv.grpc,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.BearerCredentials(token, false)),
		retrypolicy.DialOption(),
		// Reconnect soon after a restart: gRPC's default backoff grows to minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: 2 * time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := intakev1.NewIntakeServiceClient(conn)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := newLoad(ctx, client)
	stop, wait := l.run(clients)
	stopped := false
	defer func() {
		if !stopped { // a fatal failure: end the clients now
			stop()
			cancel()
			wait()
		}
	}()
	progress := func(when string) {
		t.Helper()
		target := l.acknowledged() + step
		ok, _ := waitFor(ctx, progressWait, func() (bool, error) { return l.acknowledged() >= target, nil })
		if !ok {
			t.Fatalf("%s: fewer than %d registrations acknowledged in %v\n%s\nlast server lines:\n%s",
				when, step, progressWait, l.summary(), srv.tail(20))
		}
	}

	progress("before any fault")
	for round := 1; round <= rounds; round++ {
		l.setPhase(fmt.Sprintf("round %d: server killed (SIGKILL) and restarted", round))
		srv.kill(t)
		srv.start(t)
		progress("after the server was killed and restarted")

		l.setPhase(fmt.Sprintf("round %d: postgres stopped in immediate mode and restarted", round))
		pg.crash(t)
		// Down until the clients have been answered three errors each on average, so that the
		// outage outlasts the calls in flight when it began and retries meet it too; bounded,
		// since a client backing off may not call again for a while.
		_, _ = waitFor(ctx, outageWait, func() (bool, error) { return l.errorsInPhase() >= 3*clients, nil })
		pg.start(t)
		progress("after postgres was restarted")

		l.setPhase(fmt.Sprintf("round %d: server stopped (SIGTERM) and restarted", round))
		if err := srv.term(t); err != nil {
			t.Errorf("the server did not stop cleanly on SIGTERM: %v\n%s", err, srv.tail(10))
		}
		srv.start(t)
		progress("after the server was stopped and restarted")
	}

	l.setPhase("steady load after the faults")
	progress("after the faults")
	stop()
	wait()
	stopped = true
	t.Log(l.summary())

	regs := l.registrations()
	checkSettled(t, regs)
	checkNoInternal(t, l, srv)
	checkQuietOutages(t, srv)
	checkReplays(t, client, regs)
	owner = connect(t, pg.url)
	defer owner.Close(context.Background())
	checkDatabase(t, owner, regs)
	checkCaughtUp(t, owner)
}

// checkSettled checks that every registration ended acknowledged.
func checkSettled(t *testing.T, regs []*registration) {
	t.Helper()
	retried, unknown := 0, 0
	var unacked []string
	for _, r := range regs {
		if len(r.failures) > 0 {
			retried++
		}
		for _, f := range r.failures {
			if strings.Contains(f, "may_have_applied=true") {
				unknown++
				break
			}
		}
		if r.caseID == "" {
			unacked = append(unacked, fmt.Sprintf("request %s: %v (errors before: %v)", r.req.GetRequestId(), r.final, r.failures))
		}
	}
	if len(unacked) > 0 {
		t.Errorf("%d of %d registrations never acknowledged (at most %d shown):\n%s",
			len(unacked), len(regs), shown, strings.Join(unacked[:min(len(unacked), shown)], "\n"))
	}
	t.Logf("%d registrations were answered an error at least once, %d of them that they may have been applied", retried, unknown)
}

// checkNoInternal checks that no call was answered INTERNAL or UNKNOWN; otherwise it names
// each such call and the server's lines about it.
func checkNoInternal(t *testing.T, l *load, srv *passage) {
	t.Helper()
	bugs := l.internalAnswers()
	if len(bugs) == 0 {
		return
	}
	var ids []string
	for _, b := range bugs {
		ids = append(ids, strings.Fields(b)[1]) // "request <id> attempt …"
	}
	lines, err := srv.logLines(func(line string) bool {
		for _, id := range ids {
			if strings.Contains(line, id) {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Error(err)
	}
	t.Errorf("%d calls answered INTERNAL or UNKNOWN, which is for bugs, not outages (at most %d shown):\n%s\nthe server's lines about them (%d, at most %d shown):\n%s",
		len(bugs), shown, strings.Join(bugs[:min(len(bugs), shown)], "\n"), len(lines), 2*shown, strings.Join(lines[:min(len(lines), 2*shown)], "\n"))
}

// checkQuietOutages checks that no background worker logged a failure that went on at ERROR
// again within 30 s (internal/failurelog): an outage of a few seconds costs each worker one
// ERROR line, not one per attempt (the analytics refresh tries every 250 ms).
func checkQuietOutages(t *testing.T, srv *passage) {
	t.Helper()
	type key struct{ file, msg, consumer string }
	last := map[key]time.Time{}
	var floods []string
	lines, err := srv.logLines(func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		file, text, _ := strings.Cut(line, ": ")
		var rec struct {
			Time     time.Time `json:"time"`
			Level    string    `json:"level"`
			Msg      string    `json:"msg"`
			Consumer string    `json:"consumer"`
		}
		if json.Unmarshal([]byte(text), &rec) != nil || rec.Msg == "rpc" {
			continue
		}
		if name, ok := strings.CutSuffix(rec.Msg, " recovered"); ok {
			delete(last, key{file, name + " failed", rec.Consumer})
			continue
		}
		if rec.Level != "ERROR" || !strings.HasSuffix(rec.Msg, " failed") {
			continue
		}
		k := key{file, rec.Msg, rec.Consumer}
		if prev, ok := last[k]; ok && rec.Time.Sub(prev) < 29*time.Second {
			floods = append(floods, line)
			continue
		}
		last[k] = rec.Time
	}
	if len(floods) > 0 {
		t.Errorf("%d background failures logged at ERROR again within 30 s of the last (at most %d shown):\n%s",
			len(floods), shown, strings.Join(floods[:min(len(floods), shown)], "\n"))
	}
}

// checkReplays sends every registration again, once the server is healthy, and checks each
// answers the case of its first success: what an outage left unknown settled to the first
// result.
func checkReplays(t *testing.T, client intakev1.IntakeServiceClient, regs []*registration) {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		mismatch []string
		next     = make(chan *registration)
	)
	for range clients {
		wg.Go(func() {
			for r := range next {
				ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
				var got string
				err := retrypolicy.Do(ctx, func(ctx context.Context) error {
					resp, err := client.RegisterCase(ctx, r.req)
					got = resp.GetCase().GetCaseId()
					return err
				})
				cancel()
				if err != nil || got != r.caseID {
					mu.Lock()
					mismatch = append(mismatch, fmt.Sprintf("request %s (errors before its first answer: %v): first answered case %s, again %q (%v)",
						r.req.GetRequestId(), r.failures, r.caseID, got, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, r := range regs {
		if r.caseID != "" {
			next <- r
		}
	}
	close(next)
	wg.Wait()
	if len(mismatch) > 0 {
		t.Errorf("%d registrations answered otherwise when sent again (at most %d shown):\n%s",
			len(mismatch), shown, strings.Join(mismatch[:min(len(mismatch), shown)], "\n"))
	}
}

// checkDatabase checks, as the database's owner, that each registration's request id stored
// the case it was acknowledged with, that there is no other case, and that each case wrote
// one CaseRegistered event.
func checkDatabase(t *testing.T, owner *pgx.Conn, regs []*registration) {
	t.Helper()
	ctx := context.Background()
	stored := map[string]string{} // request id → case id of the stored first result
	rows, err := owner.Query(ctx, `SELECT request_id::text, response FROM intake.idempotency WHERE method = $1`,
		intakev1.IntakeService_RegisterCase_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	var response []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &response}, func() error {
		var resp intakev1.RegisterCaseResponse
		if err := proto.Unmarshal(response, &resp); err != nil {
			return fmt.Errorf("request %s: stored response: %w", id, err)
		}
		stored[id] = resp.GetCase().GetCaseId()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	var wrong []string
	for _, r := range regs {
		if r.caseID == "" {
			continue
		}
		acked[r.caseID] = true
		if got, ok := stored[r.req.GetRequestId()]; !ok {
			wrong = append(wrong, fmt.Sprintf("request %s: acknowledged with case %s, but no first result is stored", r.req.GetRequestId(), r.caseID))
		} else if got != r.caseID {
			wrong = append(wrong, fmt.Sprintf("request %s: acknowledged with case %s, but stored with case %s", r.req.GetRequestId(), r.caseID, got))
		}
	}
	if len(stored) != len(regs) {
		t.Errorf("%d first results stored for %d requests", len(stored), len(regs))
	}

	var cases []string
	rows, err = owner.Query(ctx, `SELECT case_id::text FROM intake."case"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { cases = append(cases, id); return nil }); err != nil {
		t.Fatal(err)
	}
	inDB := map[string]bool{}
	extra := 0
	for _, c := range cases {
		inDB[c] = true
		if !acked[c] {
			extra++
		}
	}
	if extra > 0 {
		t.Errorf("%d cases in the database that no registration was acknowledged with (written twice?)", extra)
	}
	for c := range acked {
		if !inDB[c] {
			wrong = append(wrong, fmt.Sprintf("case %s was acknowledged but is not in the database", c))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d acknowledged registrations not as acknowledged in the database (at most %d shown):\n%s",
			len(wrong), shown, strings.Join(wrong[:min(len(wrong), shown)], "\n"))
	}

	var events, distinct, strays int
	if err := owner.QueryRow(ctx, `SELECT count(*), count(DISTINCT aggregate_id),
  count(*) FILTER (WHERE aggregate_id NOT IN (SELECT case_id FROM intake."case"))
FROM outbox.event WHERE producer = 'intake' AND event_type = 'passage.intake.v1.CaseRegistered'`).Scan(&events, &distinct, &strays); err != nil {
		t.Fatal(err)
	}
	if events != len(cases) || distinct != len(cases) || strays != 0 {
		t.Errorf("%d CaseRegistered events about %d cases (%d of no case) for %d cases", events, distinct, strays, len(cases))
	}
	t.Logf("%d cases in the database, %d CaseRegistered events", len(cases), events)
}

// checkCaughtUp waits until every outbox consumer's cursors are past the last of intake's
// events in their partitions, and fails naming those that are not when catchUpWait has
// passed.
func checkCaughtUp(t *testing.T, owner *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	var behind []string
	caughtUp := func() (bool, error) {
		behind = behind[:0]
		for _, table := range cursorTables {
			rows, err := owner.Query(ctx, `SELECT c.name || ' partition ' || c.partition, (SELECT count(*) FROM outbox.event e
  WHERE e.producer = 'intake' AND outbox.partition_of(e.aggregate_id, c.partitions) = c.partition
    AND (e.tx_id, e.event_id) > (c.tx_id, c.event_id))
FROM `+table+` c`)
			if err != nil {
				return false, err
			}
			var name string
			var n int
			consumers := 0
			if _, err := pgx.ForEachRow(rows, []any{&name, &n}, func() error {
				consumers++
				if n > 0 {
					behind = append(behind, fmt.Sprintf("%s (%s): %d events behind", name, table, n))
				}
				return nil
			}); err != nil {
				return false, err
			}
			if consumers == 0 {
				behind = append(behind, table+": no consumer has started")
			}
		}
		return len(behind) == 0, nil
	}
	start := time.Now()
	ok, err := waitFor(ctx, catchUpWait, caughtUp)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("outbox consumers not caught up %v after the load stopped: %s", catchUpWait, strings.Join(behind, "; "))
		return
	}
	t.Logf("every outbox consumer caught up %v after the load stopped", time.Since(start).Round(10*time.Millisecond))
}

// connect opens a connection as the database's owner.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}
