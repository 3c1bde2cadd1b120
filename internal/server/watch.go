package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
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

// Defaults for [Watch].
const (
	DefaultWatchInterval = time.Second
	DefaultWatchTimeout  = time.Second
	DefaultWatchFailures = 2
)

// Watch makes readiness follow a dependency the process cannot serve without (the database):
// while the server runs it is pinged every Interval, and once Failures pings in a row have
// failed, gRPC health answers NOT_SERVING for "" and every service set serving, and /readyz
// answers 503 "<Name> unreachable", until a ping succeeds again. /healthz stays 200: the
// process is alive and recovers by itself, a restart would not help.
type Watch struct {
	// Name is the dependency in /readyz's body and the logs; default "database".
	Name string
	// Pinger is pinged; required.
	Pinger Pinger
	// Interval between pings; default 1s.
	Interval time.Duration
	// Timeout bounds one ping; default 1s. A ping that hangs (a host gone silent) counts as a
	// failure.
	Timeout time.Duration
	// Failures is how many failed pings in a row make the dependency unreachable; default 2,
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

// readiness holds what the watcher found and the services whose health status follows it.
type readiness struct {
	mu       sync.Mutex
	down     string              // the unreachable dependency's name; "" while all is well
	since    time.Time           // when down began
	services map[string]struct{} // set serving with SetServing
}

// setServing records service and sets its health status from the current state.
func (s *Server) setServing(service string) {
	s.readiness.mu.Lock()
	defer s.readiness.mu.Unlock()
	if s.readiness.services == nil {
		s.readiness.services = map[string]struct{}{}
	}
	s.readiness.services[service] = struct{}{}
	s.health.SetServingStatus(service, s.statusLocked())
}

// unreachable returns the name of the dependency that is down, or "".
func (s *Server) unreachable() string {
	s.readiness.mu.Lock()
	defer s.readiness.mu.Unlock()
	return s.readiness.down
}

func (s *Server) statusLocked() healthpb.HealthCheckResponse_ServingStatus {
	if s.readiness.down != "" {
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	return healthpb.HealthCheckResponse_SERVING
}

// markDown and markUp change the state and every health status, and log the transition
// once. After shutdown began the health server ignores them, so a dependency coming back
// cannot make a draining server SERVING again.
func (s *Server) markDown(ctx context.Context, name string, err error) {
	s.readiness.mu.Lock()
	defer s.readiness.mu.Unlock()
	if s.readiness.down != "" {
		return
	}
	s.readiness.down, s.readiness.since = name, time.Now()
	s.applyLocked()
	s.logger.LogAttrs(ctx, slog.LevelError, name+" unreachable: not serving",
		slog.String("dependency", name), slog.String("cause", pingCause(err)),
		slog.String("error_types", errorTypes(err)))
}

func (s *Server) markUp(ctx context.Context) {
	s.readiness.mu.Lock()
	defer s.readiness.mu.Unlock()
	if s.readiness.down == "" {
		return
	}
	name, since := s.readiness.down, s.readiness.since
	s.readiness.down = ""
	s.applyLocked()
	s.logger.LogAttrs(ctx, slog.LevelInfo, name+" reachable again: serving",
		slog.String("dependency", name), slog.Float64("unreachable_s", time.Since(since).Seconds()))
}

func (s *Server) applyLocked() {
	st := s.statusLocked()
	s.health.SetServingStatus("", st)
	for service := range s.readiness.services {
		s.health.SetServingStatus(service, st)
	}
}

// watch pings w.Pinger until ctx ends, moving readiness on its results.
func (s *Server) watch(ctx context.Context, w Watch) {
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
			s.markUp(ctx)
		} else if failures++; failures >= w.Failures {
			s.markDown(ctx, w.Name, err)
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
