package fleettest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/demo"
	"github.com/passage-cm/passage/internal/pgtest"
)

const (
	// loadWait bounds the whole load, both caseloads and the series.
	loadWait = 90 * time.Second
	// seriesCases are the cases of the series, changed four times each, seriesConcurrency
	// at a time.
	seriesCases, seriesConcurrency = 60, 4
	// killAfter is how many calls of the second caseload and the series are acknowledged
	// before the first process is killed: a few hundred of its registrations, long before the
	// programme steps that follow them.
	killAfter = 300
	// catchUpWait bounds the wait for the consumers once the load is done.
	catchUpWait = 30 * time.Second
)

// wantConsumers are the outbox consumers of `passage serve`, by the name their backlog gauge
// carries.
var wantConsumers = []string{"analytics", "followup", "handover", "hasm", "intake", "referral", "returns", "trafficking"}

// Two, then three processes on one database, the first killed under load: see the package
// doc for what is asserted.
func TestServeProcessesShareOneDatabase(t *testing.T) {
	start := time.Now()
	dbURL := pgtest.New(t)
	f := newFleet(t, dbURL)

	owner := connect(t, dbURL)
	var r rotation
	r.add(f.start(t)) // alone first: it creates the development keys the others read
	r.add(f.start(t))
	key, err := auth.LoadOrCreateDevKey(f.devDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), loadWait)
	defer cancel()

	step := time.Now()
	first := newPlan(t, 2014, 0.002, 1)
	if _, err := loader(&r, key).Load(ctx, first); err != nil {
		t.Fatalf("the first caseload, on two processes: %v", err)
	}
	t.Logf("first caseload, %d cases, on two processes in %v", first.Cases(), time.Since(step).Round(10*time.Millisecond))

	r.add(f.start(t))
	step = time.Now()
	second := newPlan(t, 2015, 0.004, 2)
	var cases []*seriesCase
	g, gctx := errgroup.WithContext(ctx)
	before := r.acknowledged.Load()
	loaded := make(chan struct{})
	g.Go(func() error {
		defer close(loaded)
		if _, err := loader(&r, key).Load(gctx, second); err != nil {
			return fmt.Errorf("the second caseload: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		var err error
		cases, err = series(gctx, &r, func(mission string) (string, error) { return caseworker(key, mission) }, seriesCases, seriesConcurrency)
		return err
	})
	killed := waitFor(ctx, func() bool { return r.acknowledged.Load()-before >= killAfter }, loaded)
	victim := f.servers[0]
	var atKill map[partition]lease
	if !killed {
		t.Errorf("the second caseload ended (or the load timed out) before %d of its calls were acknowledged: %s was not killed under load", killAfter, victim.Name)
	} else {
		r.remove(victim)
		victim.Kill(t)
		atKill = leases(t, owner)
		t.Logf("%s killed with SIGKILL after %d calls of the second load", victim.Name, r.acknowledged.Load()-before)
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("on three processes, %s killed: %v", victim.Name, err)
	}
	t.Logf("second caseload, %d cases, and the series, %d cases of %d changes each, on three processes then two in %v",
		second.Cases(), len(cases), len(seriesSteps), time.Since(step).Round(10*time.Millisecond))

	step = time.Now()
	waitCaughtUp(t, f.servers[1])
	t.Logf("every consumer caught up %v after the load", time.Since(step).Round(10*time.Millisecond))

	if atKill != nil {
		checkTakenOver(t, owner, atKill)
	}
	checkProjections(t, owner, cases)
	checkAnalytics(t, owner, expected(seriesCases, first, second))
	t.Logf("%v in all", time.Since(start).Round(100*time.Millisecond))
}

// newPlan is a demo caseload of year, at scale.
func newPlan(t *testing.T, year int, scale float64, seed uint64) *demo.Plan {
	t.Helper()
	p, err := demo.NewPlan(demo.Config{Year: year, Scale: scale, Seed: seed}, demo.IOMRegions())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loader loads a demo caseload through conn, with tokens minted with the development key.
func loader(conn *rotation, key ed25519.PrivateKey) *demo.Loader {
	tokens, partnerTokens := demo.DevTokens(key, "fleet", time.Hour)
	return &demo.Loader{Conn: conn, AwaitCase: loadWait, Tokens: tokens, PartnerTokens: partnerTokens}
}

// caseworker is a token of a caseworker of mission.
func caseworker(key ed25519.PrivateKey, mission string) (string, error) {
	return auth.MintToken(key, auth.DevIssuer, auth.Audience,
		auth.Claims{Subject: "fleet-series-" + mission, Role: auth.RoleCaseworker, Mission: mission}, time.Hour)
}

// waitFor polls cond until it holds (true), or until ctx ends or done is closed (false).
func waitFor(ctx context.Context, cond func() bool, done <-chan struct{}) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-done:
			return cond()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

// waitCaughtUp polls s's /metrics until every consumer of wantConsumers reports a backlog of
// zero, and fails naming those behind when catchUpWait has passed.
func waitCaughtUp(t *testing.T, s *server) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var behind []string
	for deadline := time.Now().Add(catchUpWait); ; {
		backlog, err := backlogs(client, s.http)
		if err != nil {
			t.Fatalf("%s's /metrics: %v", s.Name, err)
		}
		behind = behind[:0]
		for _, c := range wantConsumers {
			if n, ok := backlog[c]; !ok {
				behind = append(behind, c+": no backlog reported")
			} else if n != 0 {
				behind = append(behind, fmt.Sprintf("%s: %d events", c, n))
			}
		}
		if len(behind) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumers not caught up %v after the load: %s", catchUpWait, strings.Join(behind, "; "))
		}
		time.Sleep(100 * time.Millisecond) // the next poll
	}
}

// backlogs reads passage_outbox_consumer_backlog from the /metrics at addr, by consumer.
func backlogs(client *http.Client, addr string) (map[string]int64, error) {
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		labels, value, ok := strings.Cut(strings.TrimPrefix(line, "passage_outbox_consumer_backlog{"), "} ")
		if !ok || !strings.HasPrefix(line, "passage_outbox_consumer_backlog{") {
			continue
		}
		_, name, ok := strings.Cut(labels, `consumer="`)
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, `"`)
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
		out[name] += int64(n)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no passage_outbox_consumer_backlog among the metrics")
	}
	for name := range out {
		if !slices.Contains(wantConsumers, name) {
			return nil, fmt.Errorf("a consumer this test does not know: %s (add it to wantConsumers)", name)
		}
	}
	return out, nil
}
