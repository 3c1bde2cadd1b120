package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/netlimit"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/telemetry"
)

// Options are the server's collaborators.
type Options struct {
	// Verifier checks bearer tokens. Required: every call but health checks and reflection
	// is authenticated.
	Verifier auth.Verifier
	// Policy says which roles may call which method; unlisted methods are refused.
	Policy auth.Policy
	// Admit, when set, decides after Policy whether an authenticated caller may call at all
	// (the staff directory, internal/staffdir).
	Admit auth.Admit
	// Watches make gRPC health and /readyz follow the dependencies the services need (the
	// database; a service's read replica) while the server runs; see [Watch]. Each needs a
	// Pinger.
	Watches []Watch
	// Telemetry supplies the tracer and meter providers and the /metrics handler. Nil uses
	// the global providers and serves no /metrics.
	Telemetry *telemetry.Telemetry
}

// MetricReady is the readiness gauge (Prometheus: passage_server_ready): without attributes,
// 1 while the process takes traffic (/readyz 200) and 0 while it drains or a dependency of
// every service is unavailable; with attribute service (a service's full name, one series per
// service set serving), 1 while that service's gRPC health is SERVING (/readyz?service= 200).
const MetricReady = "passage.server.ready"

const meterName = "github.com/passage-cm/passage/internal/server"

// Keepalive rules for clients on poor networks (satellite links, mobile data in the field).
var (
	// Clients may ping every 10s, even between calls, to keep NAT mappings open and notice
	// a dead link; grpc's default (5 min, only during calls) would answer such clients with
	// GOAWAY "too_many_pings" and drop them.
	keepaliveEnforcement = keepalive.EnforcementPolicy{
		MinTime:             10 * time.Second,
		PermitWithoutStream: true,
	}
)

// keepaliveParams are the connection limits: idle ones close after cfg.IdleTimeout.
func keepaliveParams(cfg Config) keepalive.ServerParameters {
	return keepalive.ServerParameters{
		// A connection with no call for this long gets GOAWAY: it holds a descriptor and
		// buffers for nothing, and a client reconnects when it next calls.
		MaxConnectionIdle: cfg.IdleTimeout,
		// Probe a connection after a quiet minute and give a slow link 30s to answer
		// before it is declared dead and its resources freed.
		Time:    time.Minute,
		Timeout: 30 * time.Second,
		// Recycle connections now and then so that load spreads over new replicas; the
		// grace lets a slow upload on a poor link finish first.
		MaxConnectionAge:      30 * time.Minute,
		MaxConnectionAgeGrace: 2 * time.Minute,
	}
}

// Metric names for what the transport limits refuse; see docs/operators/metrics.md.
const (
	// MetricConnectionsRefused counts connections closed as soon as accepted because their
	// listener was at its cap (Prometheus: passage_server_connections_refused_total), by
	// listener: grpc, http (probes and metrics) or the name given to [Server.LimitListener].
	MetricConnectionsRefused = "passage.server.connections.refused"
	// MetricStreamsUnauthenticated counts gRPC calls refused when their stream opened, before
	// any message was read, for want of a valid bearer token
	// (passage_server_streams_unauthenticated_total).
	MetricStreamsUnauthenticated = "passage.server.streams.unauthenticated"
)

// Server is a gRPC server and its HTTP companion for probes and metrics.
type Server struct {
	cfg       Config
	logger    *slog.Logger
	grpc      *grpc.Server
	health    *health.Server
	http      *http.Server
	draining  atomic.Bool
	readiness readiness

	connsRefused metric.Int64Counter
}

// New builds a server; register services on [Server.GRPC], then call [Server.Run]. Zero
// fields of cfg take their defaults.
func New(cfg Config, logger *slog.Logger, opts Options) (*Server, error) {
	if logger == nil {
		return nil, errors.New("server: logger is required")
	}
	if opts.Verifier == nil {
		return nil, errors.New("server: Options.Verifier is required")
	}
	cfg = cfg.withDefaults()

	meters := otel.GetMeterProvider()
	if opts.Telemetry != nil {
		meters = opts.Telemetry.MeterProvider()
	}
	var quotas middleware.QuotaConfig
	if cfg.Quota.Enabled {
		limiter, err := quota.New(cfg.Quota, meters)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		quotas = middleware.QuotaConfig{Limiter: limiter, Public: auth.IsPublic, Subject: subjectFromClaims}
	}
	chain, err := middleware.Chain(middleware.ChainConfig{
		Logger:     logger,
		AuthUnary:  auth.UnaryServerInterceptor(opts.Verifier, opts.Policy, opts.Admit),
		AuthStream: auth.StreamServerInterceptor(opts.Verifier, opts.Policy, opts.Admit),
		Caller:     callerFromClaims,
		Quota:      quotas,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}

	// Tracing and RPC metrics come from the stats handler, which sees every call before the
	// interceptors do. Health checks are left out: probes every few seconds are noise.
	statsOpts := []otelgrpc.Option{otelgrpc.WithFilter(filters.Not(filters.HealthCheck()))}
	if opts.Telemetry != nil {
		statsOpts = append(statsOpts,
			otelgrpc.WithTracerProvider(opts.Telemetry.TracerProvider()),
			otelgrpc.WithMeterProvider(opts.Telemetry.MeterProvider()),
		)
	}
	meter := meters.Meter(meterName)
	connsRefused, err := meter.Int64Counter(MetricConnectionsRefused,
		metric.WithDescription("Connections closed as soon as accepted: their listener was at its cap (PASSAGE_MAX_CONNECTIONS)"))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	unauthenticated, err := meter.Int64Counter(MetricStreamsUnauthenticated,
		metric.WithDescription("gRPC calls refused before their message was read: no valid bearer token"))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}

	codec := newRequestCodec()
	serverOpts := append([]grpc.ServerOption{
		// Transport limits (see Config): they act before a stream reaches any of our code.
		grpc.MaxHeaderListSize(uint32(cfg.MaxHeaderBytes)),
		grpc.MaxConcurrentStreams(uint32(cfg.MaxConcurrentStreams)),
		// Authentication when a stream opens, before its message is read: the interceptor
		// chain only runs once grpc has read the whole request.
		grpc.InTapHandle(auth.TapHandle(opts.Verifier, func(ctx context.Context, _ string) {
			unauthenticated.Add(ctx, 1)
		})),
		grpc.ForceServerCodecV2(codec),
		// grpc runs this single interceptor before the chain: see requestCodec.
		grpc.UnaryInterceptor(codec.refuseUndecodable),
		grpc.StreamInterceptor(codec.refuseUndecodableStream),
		grpc.StatsHandler(otelgrpc.NewServerHandler(statsOpts...)),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement),
		grpc.KeepaliveParams(keepaliveParams(cfg)),
	}, chain...)
	if cfg.TLS.Enabled() {
		// Read the files now: a bad certificate fails the start, not the first call.
		tc, err := mtls.ServerConfig(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(tc)))
	}

	s := &Server{
		cfg:          cfg,
		logger:       logger,
		grpc:         grpc.NewServer(serverOpts...),
		health:       health.NewServer(),
		connsRefused: connsRefused,
	}
	for _, w := range opts.Watches {
		if w.Pinger == nil {
			return nil, errors.New("server: a Watch without a Pinger")
		}
		s.readiness.watches = append(s.readiness.watches, w.withDefaults())
	}
	s.readiness.down = make([]outage, len(s.readiness.watches))
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if cfg.Reflection {
		reflection.Register(s.grpc)
	}

	var metrics http.Handler
	if opts.Telemetry != nil {
		metrics = opts.Telemetry.MetricsHandler()
		// A gauge, not a callback registration: it lives as long as the meter provider.
		_, err := meter.Int64ObservableGauge(
			MetricReady, metric.WithDescription("1 while the server takes traffic, 0 while it drains or a dependency of every service is unavailable (/readyz 503); with attribute service, 1 while that service is SERVING (/readyz?service=)"),
			metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
				draining := s.draining.Load()
				st := s.snapshot()
				o.Observe(ready(draining, st.process))
				for _, svc := range st.services {
					o.Observe(ready(draining, svc.reasons), metric.WithAttributes(attribute.String("service", svc.name)))
				}
				return nil
			}))
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	s.http = s.newHTTPServer(metrics)
	return s, nil
}

// LimitListener caps lis at Config.MaxConnections open connections, closing those over it
// as soon as they are accepted and counting them under listener name in
// passage_server_connections_refused_total. [Server.Run] and [Server.RunOn] cap their own
// listeners; use it for the others the process serves (the partner gateway's).
func (s *Server) LimitListener(lis net.Listener, name string) net.Listener {
	return s.limit(lis, s.cfg.MaxConnections, name)
}

func (s *Server) limit(lis net.Listener, max int, name string) net.Listener {
	attrs := metric.WithAttributes(attribute.String("listener", name))
	return netlimit.Listen(lis, max, func() { s.connsRefused.Add(context.Background(), 1, attrs) })
}

// GRPC returns the grpc.Server for services to register on, before Run.
func (s *Server) GRPC() *grpc.Server {
	return s.grpc
}

// SetServing marks service, by its full name ("passage.intake.v1.IntakeService"), as
// SERVING in the health service (NOT_SERVING while a watched dependency it needs is
// unavailable, and it follows its dependencies from then on); the overall status ("") follows
// the dependencies every service set serving needs. Call it once the service is registered
// and its dependencies are up.
func (s *Server) SetServing(service string) {
	s.setServing(service)
}

// ready is the gauge's value: 1 when nothing stops what it measures from serving.
func ready(draining bool, reasons []string) int64 {
	if draining || len(reasons) > 0 {
		return 0
	}
	return 1
}

// subjectFromClaims reports the caller the auth stage verified, for its quota: the token's
// subject, and whether it is a partner agency's.
func subjectFromClaims(ctx context.Context) (subject string, partner bool, ok bool) {
	c, ok := auth.FromContext(ctx)
	return c.Subject, c.Role == auth.RolePartner, ok
}

// callerFromClaims reports the caller the auth stage verified, for the RPC's log line.
func callerFromClaims(ctx context.Context) (role, mission string, ok bool) {
	c, ok := auth.FromContext(ctx)
	return string(c.Role), c.Mission, ok
}
