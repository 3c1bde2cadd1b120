package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel"
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
	// Watch, when its Pinger is set, makes gRPC health and /readyz follow a dependency (the
	// database) while the server runs; see [Watch].
	Watch Watch
	// Telemetry supplies the tracer and meter providers and the /metrics handler. Nil uses
	// the global providers and serves no /metrics.
	Telemetry *telemetry.Telemetry
}

// MetricReady is the readiness gauge (Prometheus: passage_server_ready).
const MetricReady = "passage.server.ready"

// Keepalive rules for clients on poor networks (satellite links, mobile data in the field).
var (
	// Clients may ping every 10s, even between calls, to keep NAT mappings open and notice
	// a dead link; grpc's default (5 min, only during calls) would answer such clients with
	// GOAWAY "too_many_pings" and drop them.
	keepaliveEnforcement = keepalive.EnforcementPolicy{
		MinTime:             10 * time.Second,
		PermitWithoutStream: true,
	}
	keepaliveParams = keepalive.ServerParameters{
		// Probe a connection after a quiet minute and give a slow link 30s to answer
		// before it is declared dead and its resources freed.
		Time:    time.Minute,
		Timeout: 30 * time.Second,
		// Recycle connections now and then so that load spreads over new replicas; the
		// grace lets a slow upload on a poor link finish first.
		MaxConnectionAge:      30 * time.Minute,
		MaxConnectionAgeGrace: 2 * time.Minute,
	}
)

// Server is a gRPC server and its HTTP companion for probes and metrics.
type Server struct {
	cfg       Config
	logger    *slog.Logger
	grpc      *grpc.Server
	health    *health.Server
	http      *http.Server
	draining  atomic.Bool
	watchCfg  Watch // Pinger nil: nothing watched
	readiness readiness
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
		AuthUnary:  auth.UnaryServerInterceptor(opts.Verifier, opts.Policy),
		AuthStream: auth.StreamServerInterceptor(opts.Verifier, opts.Policy),
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
	codec := newRequestCodec()
	serverOpts := append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(codec),
		// grpc runs this single interceptor before the chain: see requestCodec.
		grpc.UnaryInterceptor(codec.refuseUndecodable),
		grpc.StreamInterceptor(codec.refuseUndecodableStream),
		grpc.StatsHandler(otelgrpc.NewServerHandler(statsOpts...)),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgBytes),
		grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement),
		grpc.KeepaliveParams(keepaliveParams),
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
		cfg:    cfg,
		logger: logger,
		grpc:   grpc.NewServer(serverOpts...),
		health: health.NewServer(),
	}
	if opts.Watch.Pinger != nil {
		s.watchCfg = opts.Watch.withDefaults()
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	var metrics http.Handler
	if opts.Telemetry != nil {
		metrics = opts.Telemetry.MetricsHandler()
		// A gauge, not a callback registration: it lives as long as the meter provider.
		_, err := opts.Telemetry.MeterProvider().Meter("github.com/passage-cm/passage/internal/server").Int64ObservableGauge(
			MetricReady, metric.WithDescription("1 while the server takes traffic, 0 while it drains or the database is unreachable (/readyz 503)"),
			metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
				if s.draining.Load() || s.unreachable() != "" {
					o.Observe(0)
				} else {
					o.Observe(1)
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

// GRPC returns the grpc.Server for services to register on, before Run.
func (s *Server) GRPC() *grpc.Server {
	return s.grpc
}

// SetServing marks service, by its full name ("passage.intake.v1.IntakeService"), as
// SERVING in the health service (NOT_SERVING while the watched dependency is unreachable,
// and it follows the dependency from then on). Call it once the service is registered and
// its dependencies are up.
func (s *Server) SetServing(service string) {
	s.setServing(service)
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
