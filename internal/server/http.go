package server

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// newHTTPServer returns the probe and metrics server; metrics may be nil.
func (s *Server) newHTTPServer(metrics http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /readyz/{service}", s.readyz)
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	srv := s.cfg.probeHTTPLimits().Server(mux)
	srv.ErrorLog = slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	return srv
}

// readyz answers for the process, or for one service when the request names it
// (/readyz?service=NAME or /readyz/NAME, NAME a service's full name).
//
// For the process: 200 while it can take traffic, that is while every dependency that all
// its services need is available, and 503 when one is not or it is shutting down. The body's
// first line is "ready", the unavailable dependencies ("database unreachable") or "not ready"
// (shutting down); then one line per service that is NOT_SERVING while the process serves,
// "<service>: <why>" ("passage.analytics.v1.AnalyticsService: replica lagging").
//
// For one service: 200 "ready" while its gRPC health is SERVING, 503 with why it is not, and
// 404 for a service the process does not run. Bodies name dependencies, never their
// addresses: the cause of an outage is logged instead.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	service := r.PathValue("service")
	if service == "" {
		service = r.URL.Query().Get("service")
	}
	st := s.snapshot()
	draining := s.draining.Load()
	if service != "" {
		svc, ok := st.service(service)
		switch {
		case !ok:
			writeText(w, http.StatusNotFound, "no such service")
		case draining:
			writeText(w, http.StatusServiceUnavailable, "not ready")
		case len(svc.reasons) > 0:
			writeText(w, http.StatusServiceUnavailable, strings.Join(svc.reasons, ", "))
		default:
			writeText(w, http.StatusOK, "ready")
		}
		return
	}
	switch {
	case draining:
		writeText(w, http.StatusServiceUnavailable, "not ready")
	case len(st.process) > 0:
		writeText(w, http.StatusServiceUnavailable, strings.Join(st.process, ", "))
	default:
		body := "ready"
		for _, svc := range st.services {
			if len(svc.reasons) > 0 {
				body += "\n" + svc.name + ": " + strings.Join(svc.reasons, ", ")
			}
		}
		writeText(w, http.StatusOK, body)
	}
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
