package server_test

import (
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/passage-cm/passage/internal/server"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const analyticsName = "passage.analytics.v1.AnalyticsService"

var intakeName = intakev1.IntakeService_ServiceDesc.ServiceName

// wantHealth checks the gRPC health of each service in want.
func (b *bundle) wantHealth(t *testing.T, want map[string]healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	for service, status := range want {
		if got := b.status(t, service); got != status {
			t.Errorf("health of %q = %v, want %v", service, got, status)
		}
	}
}

// wantGet checks what path answers.
func (b *bundle) wantGet(t *testing.T, path string, code int, body string) {
	t.Helper()
	if c, got := b.get(t, path); c != code || got != body {
		t.Errorf("GET %s = %d %q, want %d %q", path, c, got, code, body)
	}
}

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
)

// TestReadinessPerService: in a process that runs two services, a dependency of one of them
// (analytics' replica) takes only that one out of service, over gRPC health, /readyz and the
// gauge; the database, which both need, takes the process out.
func TestReadinessPerService(t *testing.T) {
	t.Parallel()
	db, replica := &switchPinger{}, &switchPinger{}
	b := setup(t, setupOptions{
		watch:     server.Watch{Pinger: db, Interval: time.Millisecond, Failures: 2},
		watches:   []server.Watch{{Name: "replica", Pinger: replica, Services: []string{analyticsName}, Interval: time.Millisecond, Failures: 2}},
		also:      []string{analyticsName},
		telemetry: true,
	})
	replica.waitPings(t, 1)
	b.waitReadiness(t, 200, "ready")
	b.wantGet(t, "/readyz?service="+analyticsName, 200, "ready")

	// The error may carry the standby's address; none of it reaches a body or the log.
	replica.fail(fmt.Errorf("replica at db-standby.example: %w: 9s behind", server.ErrLagging))
	waitFor(t, "analytics lagging", func() bool { c, _ := b.get(t, "/readyz/"+analyticsName); return c == 503 })
	b.wantGet(t, "/readyz/"+analyticsName, 503, "replica lagging")
	b.wantGet(t, "/readyz?service="+analyticsName, 503, "replica lagging")
	b.wantGet(t, "/readyz?service="+intakeName, 200, "ready")
	b.wantGet(t, "/readyz", 200, "ready\n"+analyticsName+": replica lagging")
	b.wantHealth(t, map[string]healthpb.HealthCheckResponse_ServingStatus{"": serving, intakeName: serving, analyticsName: notServing})
	if got := b.readyGauge(t); got[""] != "1" || got[intakeName] != "1" || got[analyticsName] != "0" {
		t.Errorf("passage_server_ready by service = %v, want 1 for the process and intake, 0 for analytics", got)
	}
	lagging := b.records(t, "replica lagging: not serving")
	if len(lagging) != 1 || lagging[0]["services"] != analyticsName || lagging[0]["cause"] != "lagging" {
		t.Errorf("lagging lines %v, want one naming analytics, cause lagging", lagging)
	}

	// Unreachable now: the reason follows, logged once more.
	replica.fail(syscall.ECONNREFUSED)
	waitFor(t, "analytics unreachable", func() bool {
		_, body := b.get(t, "/readyz/"+analyticsName)
		return body == "replica unreachable"
	})
	b.wantGet(t, "/readyz", 200, "ready\n"+analyticsName+": replica unreachable")

	// The database, which every service needs, takes the whole process out.
	db.fail(syscall.ECONNREFUSED)
	waitFor(t, "the process out", func() bool { c, _ := b.get(t, "/readyz"); return c == 503 })
	b.wantGet(t, "/readyz", 503, "database unreachable")
	b.wantGet(t, "/readyz/"+intakeName, 503, "database unreachable")
	b.wantGet(t, "/readyz/"+analyticsName, 503, "database unreachable, replica unreachable")
	b.wantHealth(t, map[string]healthpb.HealthCheckResponse_ServingStatus{"": notServing, intakeName: notServing, analyticsName: notServing})
	b.wantReadyGauge(t, 0)

	db.heal()
	waitFor(t, "the process back", func() bool { c, _ := b.get(t, "/readyz"); return c == 200 })
	b.wantHealth(t, map[string]healthpb.HealthCheckResponse_ServingStatus{"": serving, intakeName: serving, analyticsName: notServing})
	replica.heal()
	b.waitReadiness(t, 200, "ready")
	b.wantGet(t, "/readyz/"+analyticsName, 200, "ready")
	b.wantHealth(t, map[string]healthpb.HealthCheckResponse_ServingStatus{analyticsName: serving})
	if got := b.readyGauge(t); got[""] != "1" || got[intakeName] != "1" || got[analyticsName] != "1" {
		t.Errorf("passage_server_ready by service = %v, want 1 for each", got)
	}
	if got := b.records(t, "replica reachable again: serving"); len(got) != 1 || got[0]["services"] != analyticsName {
		t.Errorf("recovery lines %v, want one naming analytics", got)
	}
	if logs := b.logs.String(); containsAny(logs, "db-standby.example", "9s behind") {
		t.Errorf("the check's error text reached the log:\n%s", logs)
	}
	b.wantGet(t, "/readyz?service=passage.nope.v1.Nope", 404, "no such service")
}

// TestOneServiceProcessFollowsAllItsDependencies: in a process that runs one service, every
// dependency of that service is the process's: its replica unavailable, the process is out
// (gRPC health of "" and /readyz), as before readiness was per service.
func TestOneServiceProcessFollowsAllItsDependencies(t *testing.T) {
	t.Parallel()
	replica := &switchPinger{}
	b := setup(t, setupOptions{
		watch:   server.Watch{Pinger: &switchPinger{}, Interval: time.Millisecond},
		watches: []server.Watch{{Name: "replica", Pinger: replica, Services: []string{intakeName}, Interval: time.Millisecond, Failures: 1}},
	})
	replica.waitPings(t, 1)
	b.waitReadiness(t, 200, "ready")
	replica.fail(syscall.ECONNREFUSED)
	b.waitReadiness(t, 503, "replica unreachable")
	b.wantGet(t, "/readyz/"+intakeName, 503, "replica unreachable")
	replica.heal()
	b.waitReadiness(t, 200, "ready")
}

func TestWatchWithoutPingerIsRefused(t *testing.T) {
	t.Parallel()
	_, err := server.New(server.Config{}, slog.New(slog.DiscardHandler), server.Options{Verifier: fakeVerifier{}, Watches: []server.Watch{{Name: "replica"}}})
	if err == nil {
		t.Fatal("New accepted a Watch without a Pinger")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
