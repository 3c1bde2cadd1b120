package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"google.golang.org/grpc"
)

// Run listens on the configured addresses and serves until ctx ends; see [Server.RunOn].
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	grpcLis, err := lc.Listen(ctx, "tcp", s.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("server: grpc listen: %w", err)
	}
	httpLis, err := lc.Listen(ctx, "tcp", s.cfg.HTTPAddr)
	if err != nil {
		_ = grpcLis.Close()
		return fmt.Errorf("server: http listen: %w", err)
	}
	return s.RunOn(ctx, grpcLis, httpLis)
}

// RunOn serves gRPC on grpcLis and HTTP on httpLis until ctx ends or either server fails,
// then shuts down: health turns NOT_SERVING and /readyz 503, in-flight calls get
// ShutdownGrace to finish before they are cancelled, and then the HTTP server closes. It returns
// nil after a shutdown caused by ctx, and closes both listeners. Call it once. gRPC's listener
// is capped at Config.MaxConnections, HTTP's at 64 (see [Server.LimitListener]).
func (s *Server) RunOn(ctx context.Context, grpcLis, httpLis net.Listener) error {
	s.logger.InfoContext(ctx, "listening", "grpc_addr", grpcLis.Addr().String(), "http_addr", httpLis.Addr().String())
	grpcLis = s.limit(grpcLis, s.cfg.MaxConnections, "grpc")
	httpLis = s.limit(httpLis, probeMaxConnections, "http")

	watchCtx, stopWatch := context.WithCancel(ctx)
	var watchers sync.WaitGroup
	for i := range s.readiness.watches {
		watchers.Go(func() { s.watch(watchCtx, i) })
	}

	results := make(chan error, 2)
	go func() { results <- grpcServeError(s.grpc.Serve(grpcLis)) }()
	go func() { results <- httpServeError(s.http.Serve(httpLis)) }()

	var errs []error
	pending := 2
	select {
	case <-ctx.Done():
	case err := <-results:
		// One server stopped by itself: take the other down too rather than run half a
		// process.
		pending--
		errs = append(errs, err)
	}
	stopWatch()
	watchers.Wait()
	s.shutdown(context.WithoutCancel(ctx))
	for ; pending > 0; pending-- {
		errs = append(errs, <-results)
	}
	return errors.Join(errs...)
}

// shutdown drains both servers within ShutdownGrace, then forces them closed.
func (s *Server) shutdown(ctx context.Context) {
	s.logger.InfoContext(ctx, "shutting down", "grace", s.cfg.ShutdownGrace.String())
	// Tell load balancers and probes first, so no new calls are routed here while the
	// in-flight ones finish.
	s.draining.Store(true)
	s.health.Shutdown()

	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownGrace)
	defer cancel()

	grpcDone := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(grpcDone)
	}()
	select {
	case <-grpcDone:
	case <-ctx.Done():
		s.logger.WarnContext(ctx, "shutdown grace period over: cancelling in-flight calls")
		s.grpc.Stop()
		<-grpcDone
	}

	// HTTP goes last so that /readyz keeps answering 503 while gRPC drains.
	if err := s.http.Shutdown(ctx); err != nil {
		// The grace period is spent and a request is still running; cut it off.
		_ = s.http.Close()
	}
	s.logger.InfoContext(ctx, "stopped")
}

// grpcServeError drops the error Serve returns because the server was stopped on purpose.
func grpcServeError(err error) error {
	if err == nil || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return fmt.Errorf("server: grpc: %w", err)
}

// httpServeError drops the error Serve returns because the server was shut down on purpose.
func httpServeError(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("server: http: %w", err)
}
