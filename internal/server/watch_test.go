package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/server"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// switchPinger fails with err while one is set, and counts its pings.
type switchPinger struct {
	err   atomic.Pointer[error]
	pings atomic.Int64
}

func (p *switchPinger) Ping(context.Context) error {
	defer p.pings.Add(1)
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *switchPinger) fail(err error) { p.err.Store(&err) }
func (p *switchPinger) heal()          { p.err.Store(nil) }

// waitPings waits until n more pings than now have been made.
func (p *switchPinger) waitPings(t *testing.T, n int64) {
	t.Helper()
	want := p.pings.Load() + n
	waitFor(t, "pings", func() bool { return p.pings.Load() >= want })
}

// waitFor polls cond until it holds, failing the test after a generous deadline: the
// deadline is a hang guard, never what is measured.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// status returns the health status of service.
func (b *bundle) status(t *testing.T, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := healthpb.NewHealthClient(b.conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("Check(%q): %v", service, err)
	}
	return resp.GetStatus()
}

// waitReadiness waits until /readyz answers code with body, then checks that gRPC health of
// "" and of the intake service agree and that /healthz still answers 200.
func (b *bundle) waitReadiness(t *testing.T, code int, body string) {
	t.Helper()
	waitFor(t, "/readyz "+body, func() bool {
		c, got := b.get(t, "/readyz")
		return c == code && got == body
	})
	want := healthpb.HealthCheckResponse_SERVING
	if code != 200 {
		want = healthpb.HealthCheckResponse_NOT_SERVING
	}
	for _, service := range []string{"", intakev1.IntakeService_ServiceDesc.ServiceName} {
		if got := b.status(t, service); got != want {
			t.Errorf("health of %q = %v while /readyz says %q, want %v", service, got, body, want)
		}
	}
	if c, got := b.get(t, "/healthz"); c != 200 || got != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok: liveness does not follow the database", c, got)
	}
}

// wantReadyGauge checks the process's readiness gauge on /metrics.
func (b *bundle) wantReadyGauge(t *testing.T, want int) {
	t.Helper()
	if got := b.readyGauge(t)[""]; got != strconv.Itoa(want) {
		t.Errorf("passage_server_ready = %q, want %d", got, want)
	}
}

// readyGauge returns the readiness gauge's values on /metrics by service, "" for the series
// without one (the process's).
func (b *bundle) readyGauge(t *testing.T) map[string]string {
	t.Helper()
	_, body := b.get(t, "/metrics")
	series := regexp.MustCompile(`(?m)^passage_server_ready(\{[^}]*\})? (\S+)$`)
	service := regexp.MustCompile(`service="([^"]*)"`)
	out := map[string]string{}
	for _, m := range series.FindAllStringSubmatch(body, -1) {
		name := ""
		if s := service.FindStringSubmatch(m[1]); s != nil {
			name = s[1]
		}
		out[name] = m[2]
	}
	return out
}

const (
	downMsg = "database unreachable: not serving"
	upMsg   = "database reachable again: serving"
)

func TestReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	p := &switchPinger{}
	b := setup(t, setupOptions{watch: server.Watch{Pinger: p, Interval: time.Millisecond, Failures: 2}, telemetry: true})
	p.waitPings(t, 1)
	b.waitReadiness(t, 200, "ready")
	b.wantReadyGauge(t, 1)

	// The error a pinger returns may carry a connection string; none of it reaches the log.
	p.fail(errors.New("connect postgres://passage:hunter2@db.example/passage: connection refused"))
	b.waitReadiness(t, 503, "database unreachable")
	b.wantReadyGauge(t, 0)
	p.waitPings(t, 5)
	if got := b.records(t, downMsg); len(got) != 1 {
		t.Errorf("%d %q lines after several failed pings, want one per outage", len(got), downMsg)
	}
	if logs := b.logs.String(); strings.Contains(logs, "hunter2") || strings.Contains(logs, "db.example") {
		t.Errorf("the ping's error text reached the log:\n%s", logs)
	}

	// A service set serving during the outage starts NOT_SERVING and follows the database.
	const late = "passage.late.v1.Late"
	b.srv.SetServing(late)
	if got := b.status(t, late); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health of a service set serving during the outage = %v, want NOT_SERVING", got)
	}

	p.heal()
	b.waitReadiness(t, 200, "ready")
	if got := b.status(t, late); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of %s after the outage = %v, want SERVING", late, got)
	}
	p.waitPings(t, 3)
	if got := b.records(t, upMsg); len(got) != 1 {
		t.Errorf("%d %q lines, want one", len(got), upMsg)
	}
	// A second outage is logged again.
	p.fail(context.DeadlineExceeded)
	b.waitReadiness(t, 503, "database unreachable")
	down := b.records(t, downMsg)
	if len(down) != 2 || down[1]["cause"] != "timeout" || down[1]["dependency"] != "database" {
		t.Errorf("outage lines %v, want a second one with cause timeout", down)
	}
}

// failFirst fails its first n pings and answers every later one.
type failFirst struct {
	n     int64
	pings atomic.Int64
}

func (p *failFirst) Ping(context.Context) error {
	if p.pings.Add(1) <= p.n {
		return errors.New("slow")
	}
	return nil
}

func TestFewerFailedPingsThanFailuresAreNoOutage(t *testing.T) {
	t.Parallel()
	p := &failFirst{n: 2}
	b := setup(t, setupOptions{watch: server.Watch{Pinger: p, Interval: time.Millisecond, Failures: 3}})
	waitFor(t, "pings past the failed ones", func() bool { return p.pings.Load() >= 6 })
	if got := b.records(t, downMsg); len(got) != 0 {
		t.Errorf("outage logged after 2 failed pings with Failures 3: %v", got)
	}
	b.waitReadiness(t, 200, "ready")
}

// TestReadinessFollowsARealPool watches a real pgx pool whose Postgres becomes unreachable:
// the pool connects through a TCP relay that the test closes (refusing new connections and
// cutting the open ones, as a crashed or partitioned database does) and opens again.
func TestReadinessFollowsARealPool(t *testing.T) {
	t.Parallel()
	admin, err := url.Parse(pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	relay := newRelay(t, admin.Host)
	via := *admin
	via.Host = relay.addr
	pool, err := pgxpool.New(context.Background(), via.String())
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)

	b := setup(t, setupOptions{watch: server.Watch{Pinger: pool, Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond}})
	b.waitReadiness(t, 200, "ready")

	relay.down(t)
	b.waitReadiness(t, 503, "database unreachable")
	down := b.records(t, downMsg)
	if len(down) != 1 {
		t.Fatalf("%d outage lines, want 1", len(down))
	}
	if cause := down[0]["cause"]; cause != "connection refused" && cause != "timeout" && cause != "network error" {
		t.Errorf("cause %q, want a connection failure", cause)
	}
	if strings.Contains(b.logs.String(), admin.Host) {
		t.Errorf("the database's address reached the log:\n%s", b.logs.String())
	}

	relay.up(t)
	b.waitReadiness(t, 200, "ready")
	if got := b.records(t, upMsg); len(got) != 1 {
		t.Errorf("%d recovery lines, want 1", len(got))
	}
}

// relay forwards TCP connections from a local address to target until down, and again after up.
type relay struct {
	target, addr string
	mu           sync.Mutex
	lis          net.Listener
	conns        map[net.Conn]struct{}
	wg           sync.WaitGroup
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	r := &relay{target: target, conns: map[net.Conn]struct{}{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = lis.Addr().String()
	r.serve(lis)
	t.Cleanup(func() { r.down(t); r.wg.Wait() })
	return r
}

func (r *relay) serve(lis net.Listener) {
	r.mu.Lock()
	r.lis = lis
	r.mu.Unlock()
	r.wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			r.wg.Go(func() { r.forward(c) })
		}
	})
}

func (r *relay) forward(c net.Conn) {
	d, err := net.Dial("tcp", r.target)
	if err != nil {
		_ = c.Close()
		return
	}
	r.mu.Lock()
	if r.lis == nil { // went down meanwhile
		r.mu.Unlock()
		_, _ = c.Close(), d.Close()
		return
	}
	r.conns[c], r.conns[d] = struct{}{}, struct{}{}
	r.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_, _ = dst.Close(), src.Close()
	}
	wg.Go(func() { pipe(d, c) })
	wg.Go(func() { pipe(c, d) })
	wg.Wait()
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, d)
	r.mu.Unlock()
}

// down stops listening and cuts every relayed connection.
func (r *relay) down(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lis != nil {
		_ = r.lis.Close()
		r.lis = nil
	}
	for c := range r.conns {
		_ = c.Close()
	}
}

// up listens again on the same address.
func (r *relay) up(t *testing.T) {
	t.Helper()
	lis, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatalf("relay: listen again on %s: %v", r.addr, err)
	}
	r.serve(lis)
}
