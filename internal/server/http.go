package server

import (
	"io"
	"log/slog"
	"net/http"
)

// newHTTPServer returns the probe and metrics server; metrics may be nil.
func (s *Server) newHTTPServer(metrics http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	srv := s.cfg.probeHTTPLimits().Server(mux)
	srv.ErrorLog = slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	return srv
}

// readyz answers 200 when the process can take traffic and 503 when it cannot or is
// shutting down. The body names a watched dependency that is unreachable ("database
// unreachable") and otherwise never says why: the reason is logged instead.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeText(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	if down := s.unreachable(); down != "" {
		writeText(w, http.StatusServiceUnavailable, down+" unreachable")
		return
	}
	writeText(w, http.StatusOK, "ready")
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
