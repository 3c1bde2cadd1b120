package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Pinger answers whether a dependency is reachable; *pgxpool.Pool is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc makes a function a [Pinger].
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

// ErrLagging is what a [Pinger] returns (wrapped) when its dependency answers but is too far
// behind to serve from (a standby whose replay lags): the reason is then "<Name> lagging"
// instead of "<Name> unreachable".
var ErrLagging = errors.New("lagging")

// Defaults for [Watch].
const (
	DefaultWatchInterval = time.Second
	DefaultWatchTimeout  = time.Second
	DefaultWatchFailures = 2
)

// Watch makes readiness follow a dependency services cannot serve without (the database, a
// service's read replica): while the server runs it is pinged every Interval, and once
// Failures pings in a row have failed, gRPC health answers NOT_SERVING for every service that
// depends on it, until a ping succeeds again. The overall status ("" in gRPC health, /readyz
// without a service) follows the dependencies every service of the process depends on; see
// [Server.SetServing] and /readyz. /healthz stays 200: the process is alive and recovers by
// itself, a restart would not help.
type Watch struct {
	// Name is the dependency in /readyz's body and the logs ("database", "replica"); default
	// "database". Never a URL: /readyz is unauthenticated.
	Name string
	// Pinger is pinged; required. A failure's reason is "<Name> unreachable", or
	// "<Name> lagging" when the error wraps [ErrLagging].
	Pinger Pinger
	// Services are the full names of the services that depend on it; empty: every service
	// of the process.
	Services []string
	// Interval between pings; default 1s.
	Interval time.Duration
	// Timeout bounds one ping; default 1s. A ping that hangs (a host gone silent) counts as a
	// failure.
	Timeout time.Duration
	// Failures is how many failed pings in a row make the dependency unavailable; default 2,
	// so that one ping that queued behind a busy pool does not drain the replica.
	Failures int
}

func (w Watch) withDefaults() Watch {
	if w.Name == "" {
		w.Name = "database"
	}
	if w.Interval <= 0 {
		w.Interval = DefaultWatchInterval
	}
	if w.Timeout <= 0 {
		w.Timeout = DefaultWatchTimeout
	}
	if w.Failures <= 0 {
		w.Failures = DefaultWatchFailures
	}
	return w
}

// readiness holds what the watchers found and the services whose health status follows it.
type readiness struct {
	mu       sync.Mutex
	watches  []Watch  // with defaults; fixed after New
	down     []outage // by watch: what is wrong with it now
	services []string // set serving with SetServing, in that order
}

// outage is a watched dependency's state: reason is "" while it is available.
type outage struct {
	reason  string // "database unreachable", "replica lagging"
	lagging bool   // reachable, but too far behind (ErrLagging)
	since   time.Time
}

// appliesLocked reports whether service depends on watch i; "" (the process as a whole)
// depends on the watches every service set serving depends on.
func (r *readiness) appliesLocked(i int, service string) bool {
	deps := r.watches[i].Services
	if len(deps) == 0 {
		return true
	}
	if service != "" {
		return slices.Contains(deps, service)
	}
	for _, s := range r.services {
		if !slices.Contains(deps, s) {
			return false
		}
	}
	return true
}

// reasonsLocked returns why service ("" for the process) cannot serve; none while it can.
func (r *readiness) reasonsLocked(service string) []string {
	var reasons []string
	for i, o := range r.down {
		if o.reason != "" && r.appliesLocked(i, service) && !slices.Contains(reasons, o.reason) {
			reasons = append(reasons, o.reason)
		}
	}
	return reasons
}

// state is a snapshot of readiness for /readyz and the gauge.
type state struct {
	// process holds why the process as a whole cannot serve; empty while it can.
	process []string
	// services are the services set serving, in order, and why each cannot serve.
	services []serviceState
}

type serviceState struct {
	name    string
	reasons []string
}

func (s *Server) snapshot() state {
	r := &s.readiness
	r.mu.Lock()
	defer r.mu.Unlock()
	st := state{process: r.reasonsLocked("")}
	for _, name := range r.services {
		st.services = append(st.services, serviceState{name: name, reasons: r.reasonsLocked(name)})
	}
	return st
}

// service returns the state of name, and false when no such service is set serving.
func (st state) service(name string) (serviceState, bool) {
	for _, s := range st.services {
		if s.name == name {
			return s, true
		}
	}
	return serviceState{}, false
}

// setServing records service and sets its health status from the current state; the
// overall status may change with it (a dependency of every service but this one no longer
// is).
func (s *Server) setServing(service string) {
	r := &s.readiness
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.services, service) {
		r.services = append(r.services, service)
	}
	s.applyLocked()
}

func servingStatus(reasons []string) healthpb.HealthCheckResponse_ServingStatus {
	if len(reasons) > 0 {
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	return healthpb.HealthCheckResponse_SERVING
}

// applyLocked sets every health status from the current state. After shutdown began the
// health server ignores it, so a dependency coming back cannot make a draining server
// SERVING again.
func (s *Server) applyLocked() {
	r := &s.readiness
	s.health.SetServingStatus("", servingStatus(r.reasonsLocked("")))
	for _, service := range r.services {
		s.health.SetServingStatus(service, servingStatus(r.reasonsLocked(service)))
	}
}

// markDown and markUp change watch i's state and the health statuses it moves, and log each
// transition once.
func (s *Server) markDown(ctx context.Context, i int, err error) {
	r := &s.readiness
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.watches[i]
	lagging := errors.Is(err, ErrLagging)
	reason := w.Name + " unreachable"
	if lagging {
		reason = w.Name + " lagging"
	}
	if r.down[i].reason == reason {
		return
	}
	if r.down[i].reason == "" {
		r.down[i].since = time.Now()
	}
	r.down[i].reason, r.down[i].lagging = reason, lagging
	s.applyLocked()
	s.logger.LogAttrs(ctx, slog.LevelError, reason+": not serving",
		slog.String("dependency", w.Name), slog.String("services", dependents(w)),
		slog.String("cause", pingCause(err)), slog.String("error_types", errorTypes(err)))
}

func (s *Server) markUp(ctx context.Context, i int) {
	r := &s.readiness
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down[i].reason == "" {
		return
	}
	w, was := r.watches[i], r.down[i]
	r.down[i] = outage{}
	s.applyLocked()
	msg, seconds := w.Name+" reachable again: serving", "unreachable_s"
	if was.lagging {
		msg, seconds = w.Name+" caught up: serving", "lagging_s"
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, msg,
		slog.String("dependency", w.Name), slog.String("services", dependents(w)),
		slog.Float64(seconds, time.Since(was.since).Seconds()))
}

// dependents names the services w concerns for the log: "all", or their names.
func dependents(w Watch) string {
	if len(w.Services) == 0 {
		return "all"
	}
	return strings.Join(w.Services, ",")
}

// watch pings watch i's Pinger until ctx ends, moving readiness on its results.
func (s *Server) watch(ctx context.Context, i int) {
	w := s.readiness.watches[i]
	failures := 0
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, w.Timeout)
		err := w.Pinger.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			failures = 0
			s.markUp(ctx, i)
		} else if failures++; failures >= w.Failures {
			s.markDown(ctx, i, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pingCause says in a few words why a ping failed. Connection errors name the user, host
// and database (and a caller's error might say more): the log gets this and the error's
// types, never its text.
func pingCause(err error) string {
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrLagging):
		return "lagging"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &pgErr):
		return "sqlstate " + pgErr.Code
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &netErr):
		return "network error"
	}
	return "ping failed"
}

// errorTypes renders the dynamic types along err's wrap chain.
func errorTypes(err error) string {
	var types []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		types = append(types, fmt.Sprintf("%T", e))
	}
	return strings.Join(types, " > ")
}
