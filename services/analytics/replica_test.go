package analytics_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/analytics/cube"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
)

// setupReplicated runs intake, returns and analytics on r's primary, analytics reading from
// r's standby as PASSAGE_ANALYTICS_REPLICA_DATABASE_URL makes it.
func setupReplicated(t testing.TB, r *pgtest.Replicated) *bundle {
	t.Helper()
	// A tight lag bound, so that StandbyLagging waits a second, not the default's five.
	return setupOn(t, testserver.Options{Database: r.Primary, Replica: r.Standby, ReplicaMaxLag: time.Second})
}

// TestReplica: with a hot standby configured, analytics reads the rollup from it and still
// counts every change once, shows new cases within its refresh, writes its privacy ledger to
// the primary, and while the standby is away says so in its readiness and answers from the
// copy it holds.
func TestReplica(t *testing.T) {
	t.Parallel()
	r := pgtest.NewReplicated(t)
	// Before the server runs, so that nothing else writes the rollup.
	t.Run("HorizonHoldsOnTheStandby", func(t *testing.T) { horizonOnStandby(t, r) })

	b := setupReplicated(t, r)
	t.Run("FreshThroughTheStandby", func(t *testing.T) {
		lat := measureFreshness(t, b, 11, 20)
		t.Logf("case registered → counted in Aggregate through the standby, %d cases: %s", len(lat), summary(lat))
		var n int
		owner := pgtest.Connect(t, r.Standby)
		if err := owner.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, analytics.Role).Scan(&n); err != nil || n == 0 {
			t.Errorf("the standby has %d connections of %s (%v): the reads do not come from it", n, analytics.Role, err)
		}
	})
	t.Run("LedgerOnThePrimary", func(t *testing.T) {
		before := b.env.QueryInt(t, `SELECT count(*) FROM analytics.privacy_ledger`)
		if _, err := b.analytics.Aggregate(b.analyst, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED,
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 0.5}}}); err != nil {
			t.Fatalf("Aggregate under differential privacy: %v", err)
		}
		if got := b.env.QueryInt(t, `SELECT count(*) FROM analytics.privacy_ledger`); got != before+1 {
			t.Errorf("the primary's ledger has %d spends, want %d", got, before+1)
		}
		budget, err := b.analytics.GetPrivacyBudget(b.analyst, &analyticsv1.GetPrivacyBudgetRequest{})
		if err != nil || budget.GetSpent() != 0.5 {
			t.Errorf("GetPrivacyBudget: spent %v (%v), want 0.5 read back from the primary", budget.GetSpent(), err)
		}
	})
	t.Run("StandbyLagging", func(t *testing.T) { standbyLagging(t, b, r) })
	t.Run("StandbyDown", func(t *testing.T) { standbyDown(t, b, r) })
}

// horizonOnStandby: the refresh's horizon (the xmin of the standby's snapshot) keeps back a
// row committed on the primary while an older transaction is still open there, although
// the standby shows the row, and reads both once the older one commits: on a standby as on
// the primary, a change that commits late is read at a later refresh, never skipped.
func horizonOnStandby(t *testing.T, r *pgtest.Replicated) {
	ctx := context.Background()
	pool, err := database.Open(ctx, database.PoolConfig{AdminURL: r.Standby, Role: analytics.Role})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	l := analytics.NewLoader(database.NewDB(pool), cube.New(region.CodeOf))
	if _, err := l.Refresh(ctx); err != nil {
		t.Fatalf("first refresh on the standby: %v", err)
	}
	const insert = `INSERT INTO analytics.rollup (measure, year, programme, sex, age_band, nationality, host_country,
return_country, vulnerabilities, assistance_type, exploitation_types, persons)
VALUES ('PERSONS_RETURNED', 2015, 'AVRR', 'MALE', '30_38', $1, 'DEU', $1, '{}', '', '{}', 12)`
	older, later := pgtest.Connect(t, r.Primary), pgtest.Connect(t, r.Primary)
	tx, err := older.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op once committed
	if _, err := tx.Exec(ctx, insert, "IRQ"); err != nil {
		t.Fatal(err)
	}
	if _, err := later.Exec(ctx, insert, "SYR"); err != nil {
		t.Fatal(err)
	}
	r.AwaitReplay(t)
	var visible int
	if err := pgtest.Connect(t, r.Standby).QueryRow(ctx, `SELECT count(*) FROM analytics.rollup`).Scan(&visible); err != nil || visible != 1 {
		t.Fatalf("the standby shows %d rollup rows (%v), want the one committed", visible, err)
	}
	if n, err := l.Refresh(ctx); err != nil || n != 0 {
		t.Fatalf("refresh while an older transaction is open: %d rows (%v), want 0: the later row is past the horizon", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r.AwaitReplay(t)
	if n, err := l.Refresh(ctx); err != nil || n != 2 {
		t.Fatalf("refresh once it committed: %d rows (%v), want both", n, err)
	}
}

// standbyDown: with the standby stopped, readiness turns NOT_SERVING, and Aggregate keeps
// answering from the copy it holds (its provenance says as of when): a case registered
// meanwhile reaches the primary's rollup but not the answers. Once the standby is back,
// readiness is SERVING again and the case is counted.
func standbyDown(t *testing.T, b *bundle, r *pgtest.Replicated) {
	health := healthpb.NewHealthClient(b.env.Conn)
	before := total(t, b)
	r.StopStandby(t)
	awaitHealth(t, health, healthpb.HealthCheckResponse_NOT_SERVING)
	// Only analytics depends on the standby: the process and the other services serve on.
	wantOthersServing(t, b, "replica unreachable")
	b.register(t, traveller{mission: "NER", host: "NER", sex: female, nationality: "MLI", statistics: true}, "Outage")
	deadline := time.Now().Add(20 * time.Second)
	for b.env.QueryInt(t, `SELECT coalesce(sum(persons), 0) FROM analytics.rollup WHERE measure = 'CASES_REGISTERED'`) != int(before)+1 {
		if time.Now().After(deadline) {
			t.Fatal("the case is not in the primary's rollup in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Two refreshes failed since the row was seen committed, so the second began after it:
	// the cube could only have had it from the standby.
	failures := strings.Count(b.env.Logs.String(), "analytics: refresh failed")
	for strings.Count(b.env.Logs.String(), "analytics: refresh failed") < failures+2 {
		if time.Now().After(deadline) {
			t.Fatal("no refresh failed while the standby is down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := total(t, b); got != before {
		t.Errorf("while the standby is down Aggregate counts %d cases, want the %d it held", got, before)
	}
	r.StartStandby(t)
	awaitHealth(t, health, healthpb.HealthCheckResponse_SERVING)
	wantAllReady(t, b)
	for total(t, b) != before+1 {
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatal("the case is not counted after the standby came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// standbyLagging: with the standby's replay paused while the primary writes, analytics turns
// NOT_SERVING once the lag passes its bound ("replica lagging"), while the process and the
// other services serve on; once replay resumes, analytics serves again.
func standbyLagging(t *testing.T, b *bundle, r *pgtest.Replicated) {
	health := healthpb.NewHealthClient(b.env.Conn)
	resume := r.PauseReplay(t)
	defer resume()
	const lagging = `"msg":"replica lagging: not serving"`
	before := strings.Count(b.env.Logs.String(), lagging)
	// The case registered now is WAL the standby holds back.
	b.register(t, traveller{mission: "NER", host: "NER", sex: female, nationality: "MLI", statistics: true}, "Lagging")
	awaitHealth(t, health, healthpb.HealthCheckResponse_NOT_SERVING)
	wantOthersServing(t, b, "replica lagging")
	if lines := strings.Count(b.env.Logs.String(), lagging) - before; lines != 1 {
		t.Errorf("%d lines say the replica lags, want 1", lines)
	}
	resume()
	awaitHealth(t, health, healthpb.HealthCheckResponse_SERVING)
	wantAllReady(t, b)
	if !strings.Contains(b.env.Logs.String(), `"msg":"replica caught up: serving"`) {
		t.Error("no line says the replica caught up")
	}
}

// wantOthersServing checks, while analytics is NOT_SERVING for reason, that the process
// and intake still are SERVING over gRPC health, and what /readyz says of each.
func wantOthersServing(t testing.TB, b *bundle, reason string) {
	t.Helper()
	health := healthpb.NewHealthClient(b.env.Conn)
	for _, service := range []string{"", intake.Name, returns.Name} {
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q = %v (%v) while analytics' standby is away, want SERVING", service, resp.GetStatus(), err)
		}
	}
	for _, p := range []struct {
		path string
		code int
		body string
	}{
		{"/readyz", 200, "ready\n" + analytics.Name + ": " + reason},
		{"/readyz?service=" + analytics.Name, 503, reason},
		{"/readyz/" + analytics.Name, 503, reason},
		{"/readyz?service=" + intake.Name, 200, "ready"},
	} {
		if code, body := b.env.Probe(t, p.path); code != p.code || body != p.body {
			t.Errorf("GET %s = %d %q, want %d %q", p.path, code, body, p.code, p.body)
		}
	}
}

// wantAllReady checks that /readyz says the process and analytics are ready.
func wantAllReady(t testing.TB, b *bundle) {
	t.Helper()
	for _, path := range []string{"/readyz", "/readyz?service=" + analytics.Name} {
		if code, body := b.env.Probe(t, path); code != 200 || body != "ready" {
			t.Errorf("GET %s = %d %q, want 200 ready", path, code, body)
		}
	}
}

// total is Aggregate's grand total of cases registered (above k, so not suppressed).
func total(t testing.TB, b *bundle) int64 {
	t.Helper()
	cells := b.aggregate(t, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED}).GetCells()
	if len(cells) != 1 || cells[0].GetSuppressed() {
		t.Fatalf("grand total: %v", cells)
	}
	return cells[0].GetCount()
}

func awaitHealth(t testing.TB, h healthpb.HealthClient, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{Service: analytics.Name})
		if err == nil && resp.GetStatus() == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health is not %v in time (%v, %v)", want, resp.GetStatus(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// measureFreshness registers first cases (enough to pass k, unmeasured), waits until
// Aggregate counts them, then registers n more one after another while a poller asks
// Aggregate for the grand total, and returns, for each, the time from its registration's
// commit (RegisterCase's answer) to the first answer that counts it.
func measureFreshness(t testing.TB, b *bundle, first, n int) []time.Duration {
	t.Helper()
	tr := traveller{mission: "NER", host: "NER", sex: female, nationality: "MLI", statistics: true}
	for i := range first {
		b.register(t, tr, fmt.Sprintf("Warmup%d", i))
	}
	deadline := time.Now().Add(30 * time.Second)
	base := int64(-1)
	for base < int64(first) {
		cells := b.aggregate(t, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED}).GetCells()
		if len(cells) == 1 && !cells[0].GetSuppressed() {
			base = cells[0].GetCount()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first %d cases are not counted in time: %v", first, cells)
		}
		time.Sleep(10 * time.Millisecond)
	}

	var (
		mu        sync.Mutex
		committed = make([]time.Time, n)
		seen      = make([]time.Time, n)
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*time.Second+30*time.Second)
	defer cancel()
	polled := make(chan error, 1)
	go func() {
		for {
			resp, err := b.analytics.Aggregate(b.analyst, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED})
			if err != nil {
				polled <- err
				return
			}
			now := time.Now()
			count := resp.GetCells()[0].GetCount() - base
			mu.Lock()
			for i := int64(0); i < min(count, int64(n)); i++ {
				if seen[i].IsZero() {
					seen[i] = now
				}
			}
			mu.Unlock()
			if count >= int64(n) {
				polled <- nil
				return
			}
			select {
			case <-ctx.Done():
				polled <- fmt.Errorf("%d of %d cases counted: %w", count, n, ctx.Err())
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	for i := range n {
		b.register(t, tr, fmt.Sprintf("Fresh%d", i))
		mu.Lock()
		committed[i] = time.Now()
		mu.Unlock()
	}
	if err := <-polled; err != nil {
		t.Fatalf("polling Aggregate: %v", err)
	}
	lat := make([]time.Duration, n)
	for i := range n {
		// The count can move before RegisterCase's answer arrives: then it took no time.
		lat[i] = max(0, seen[i].Sub(committed[i]))
	}
	return lat
}

// summary is p50, p95 and the maximum of lat.
func summary(lat []time.Duration) string {
	s := slices.Clone(lat)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return fmt.Sprintf("p50 %v, p95 %v, max %v", at(0.5).Round(time.Millisecond), at(0.95).Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// BenchmarkReplicaFreshness measures, over b.N cases, the time from a registration's commit
// on the primary to its count in Aggregate, read through a hot standby and, for comparison,
// from the primary itself (docs/benchmarks/analytics-replica.md):
//
//	go test -run '^$' -bench ReplicaFreshness -benchtime 200x ./services/analytics/
func BenchmarkReplicaFreshness(b *testing.B) {
	for _, through := range []string{"standby", "primary"} {
		b.Run(through, func(b *testing.B) {
			r := pgtest.NewReplicated(b)
			var bd *bundle
			if through == "standby" {
				bd = setupReplicated(b, r)
			} else {
				bd = setupOn(b, testserver.Options{Database: r.Primary})
			}
			b.ResetTimer()
			lat := measureFreshness(b, bd, 11, b.N)
			b.StopTimer()
			s := slices.Clone(lat)
			slices.Sort(s)
			b.ReportMetric(float64(s[len(s)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(s[int(0.95*float64(len(s)-1))].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(s[len(s)-1].Microseconds())/1000, "max-ms")
			b.Logf("%d cases: %s", len(lat), summary(lat))
		})
	}
}
