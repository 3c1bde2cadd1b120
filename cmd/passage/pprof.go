package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/passage-cm/passage/internal/mtls"
)

// servePprof serves Go's profiler (net/http/pprof) on addr until ctx ends, for `passage serve
// --dev --pprof ADDR`: how `make bench-analytics` finds where an Aggregate's time goes.
// Development only, and only on a loopback address: a heap profile holds whatever the
// process holds, and the profiler answers without a token. It returns the address it
// listens on (port 0 picks one) and the function that stops it.
func servePprof(ctx context.Context, addr string) (net.Addr, func(), error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, nil, fmt.Errorf("serve: --pprof %q: %w", addr, err)
	}
	if !mtls.IsLoopback(addr) {
		return nil, nil, errors.New("serve: --pprof listens on a loopback address only, e.g. 127.0.0.1:6060")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("serve: --pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return ln.Addr(), stop, nil
}
