package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/gateway"
	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/staffdir"
	"github.com/passage-cm/passage/internal/telemetry"
	"github.com/passage-cm/passage/internal/vault"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
)

// Parts are what Assemble builds the services from besides the configuration: what Run
// loads or opens for production, and internal/testserver for a test.
type Parts struct {
	Logger   *slog.Logger
	Keys     *vault.Keyring
	Verifier auth.Verifier
	// Telemetry supplies the server's tracer, meters and /metrics; nil uses the global
	// providers (server.Options).
	Telemetry *telemetry.Telemetry
	// Pool returns the pool of a service: connected as its Role, or as its WorkerRole when
	// worker is true (asked only of services that have one). Assemble asks in the order of
	// the services, each service's worker pool right after its own, and returns its error
	// as it is.
	Pool func(s Service, worker bool) (*pgxpool.Pool, error)
	// Replica returns the replica pool of a service that has ReplicaReads (asked after its
	// other pools), or nil when it has none configured; Replica itself may be nil: no
	// service reads from a replica.
	Replica func(s Service) (*pgxpool.Pool, error)
	// Clock is handed to every service as Deps.Clock; nil is time.Now, as in production.
	Clock func() time.Time
	// DocumentBucket, when set, keeps the documents' chunks (Deps.Documents.Bucket): Run
	// opens the bucket PASSAGE_S3_* names when PASSAGE_DOCUMENT_STORE is s3.
	DocumentBucket *objectstore.Bucket
}

// Assembly is a server with the services registered on it, not yet running.
type Assembly struct {
	Server *server.Server
	// Background is the services' background work (outbox consumers, say) and the partner
	// gateway's serving loop, to run beside the server until it stops.
	Background []func(context.Context) error
	// PartnerAddr is where the partner HTTP/JSON gateway listens; nil when none is served.
	PartnerAddr net.Addr
	// Directory is the process's copy of the staff directory, which admits every staff call.
	Directory *staffdir.Directory
}

// Assemble builds the gRPC server for the services and registers each on it, built from its
// Deps: its pools (Parts.Pool), the keyring, the logger, the clock and what cfg says (retention,
// the privacy budget, the networks webhooks may reach). The server's policy is the union of
// the services', and its readiness follows their pools. When a service has HTTP bindings, the
// partner gateway listens on cfg.Server.PartnerHTTPAddr (see partnerGateway). Run and
// internal/testserver both assemble this way, so a test's server is production's.
func Assemble(ctx context.Context, cfg Config, p Parts, services ...Service) (*Assembly, error) {
	clock := p.Clock
	if clock == nil {
		clock = time.Now
	}
	policy := auth.Policy{}
	pools := make([]*pgxpool.Pool, len(services))
	workerPools := make([]*pgxpool.Pool, len(services))
	replicaPools := make([]*pgxpool.Pool, len(services))
	// watched are the primary's pools readiness follows, one per service; replicaWatches
	// follow each service's replica, for that service alone.
	var watched []*pgxpool.Pool
	var replicaWatches []server.Watch
	for i, s := range services {
		var err error
		if pools[i], err = p.Pool(s, false); err != nil {
			return nil, err
		}
		workerPools[i] = pools[i]
		if s.WorkerRole != "" {
			if workerPools[i], err = p.Pool(s, true); err != nil {
				return nil, err
			}
		}
		replicaPools[i] = pools[i]
		watched = append(watched, pools[i])
		if s.ReplicaReads && p.Replica != nil {
			r, err := p.Replica(s)
			if err != nil {
				return nil, err
			}
			if r != nil {
				replicaPools[i] = r
				replicaWatches = append(replicaWatches, server.Watch{Name: "replica", Services: append([]string{s.Name}, s.Includes...),
					Pinger: newReplicaCheck(pools[i], r, cfg.AnalyticsReplicaMaxLag)})
			}
		}
		for method, roles := range s.Policy {
			policy[method] = roles
		}
	}

	// Every process admits a staff member's call only as the staff directory says, read with
	// the first service's role (every service role reads it) and kept fresh by its changes'
	// notifications.
	var directory *staffdir.Directory
	var admit auth.Admit
	if len(pools) > 0 {
		var err error
		if directory, err = staffdir.Open(ctx, pools[0], staffdir.Config{Mode: cfg.StaffDirectory, Logger: p.Logger, Clock: clock}); err != nil {
			return nil, err
		}
		admit = directory.Admit
	}
	srv, err := server.New(cfg.Server, p.Logger, server.Options{
		Verifier:  p.Verifier,
		Policy:    policy,
		Admit:     admit,
		Telemetry: p.Telemetry,
		// Readiness follows the database, which every service needs: while it cannot be
		// reached, gRPC health says NOT_SERVING and /readyz 503, so load balancers send calls to
		// replicas of the process that can answer them. A service's read replica concerns that
		// service alone: while it is unreachable or lags, only its health says NOT_SERVING.
		Watches: append([]server.Watch{{Name: "database", Pinger: server.PingFunc(func(ctx context.Context) error {
			for _, p := range watched {
				if err := p.Ping(ctx); err != nil {
					return err
				}
			}
			return nil
		})}}, append(replicaWatches, documentStoreWatches(p.DocumentBucket, services)...)...),
	})
	if err != nil {
		return nil, err
	}
	a := &Assembly{Server: srv, Directory: directory}
	if directory != nil {
		a.Background = append(a.Background, directory.Run)
	}
	for i, s := range services {
		deps := Deps{Pool: pools[i], WorkerPool: workerPools[i], ReplicaPool: replicaPools[i], Keys: p.Keys, Retention: cfg.Retention.Policy(), RetentionInterval: time.Duration(cfg.Retention.Interval),
			PrivacyYearlyEpsilon: float64(cfg.PrivacyYearlyEpsilon), WebhookAllowNetworks: cfg.WebhookAllowNetworks, Logger: p.Logger, Clock: clock, Directory: directory, RegisterBatchesInFlight: cfg.RegisterBatchesInFlight,
			Documents: DocumentDeps{Bucket: p.DocumentBucket, MaxBytes: cfg.Documents.MaxBytes, SweepInterval: cfg.Documents.SweepInterval}}
		if work := s.Register(deps, srv.GRPC()); work != nil {
			a.Background = append(a.Background, work)
		}
		for _, name := range append([]string{s.Name}, s.Includes...) {
			srv.SetServing(name)
		}
	}
	gw, addr, err := partnerGateway(ctx, cfg, srv, services, p.Logger)
	if err != nil {
		return nil, err
	}
	if gw != nil {
		a.Background = append(a.Background, gw)
		a.PartnerAddr = addr
	}
	return a, nil
}

// documentStoreWatches makes the readiness of the service that keeps documents (the intake
// service's DocumentService) follow the S3 bucket its chunks are in, when there is one: while
// the store is out of reach, only that service is NOT_SERVING ("document store
// unreachable"), and the rest of intake serves on.
func documentStoreWatches(bucket *objectstore.Bucket, services []Service) []server.Watch {
	if bucket == nil {
		return nil
	}
	name := documentv1.DocumentService_ServiceDesc.ServiceName
	for _, s := range services {
		if slices.Contains(s.Includes, name) {
			return []server.Watch{{Name: "document store", Services: []string{name}, Pinger: server.PingFunc(bucket.Check)}}
		}
	}
	return nil
}

// partnerGateway returns the HTTP/JSON gateway's serving loop for the services that have HTTP
// bindings, on PASSAGE_PARTNER_HTTP_ADDR with the gateway's own TLS (PASSAGE_PARTNER_TLS_*),
// and the address it listens on; nil when none has bindings or the address is "off".
func partnerGateway(ctx context.Context, cfg Config, srv *server.Server, services []Service, logger *slog.Logger) (func(context.Context) error, net.Addr, error) {
	var registrars []gateway.Registrar
	for _, s := range services {
		if s.Gateway != nil {
			registrars = append(registrars, s.Gateway)
		}
	}
	addr := cfg.Server.PartnerHTTPAddr
	if addr == "" {
		addr = server.DefaultPartnerHTTPAddr
	}
	if len(registrars) == 0 || addr == "off" {
		return nil, nil, nil
	}
	tc, err := partnerTLS(cfg.Server)
	if err != nil {
		return nil, nil, err
	}
	if tc == nil && !cfg.Dev {
		logger.Warn("partner HTTP gateway without TLS outside development: set PASSAGE_PARTNER_TLS_CERT and PASSAGE_PARTNER_TLS_KEY unless a proxy terminates TLS")
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("partner gateway: listen: %w", err)
	}
	gw, err := gateway.New(ctx, srv.GRPC(), registrars...)
	if err != nil {
		_ = lis.Close()
		return nil, nil, err
	}
	capped := srv.LimitListener(lis, "partner")
	return func(ctx context.Context) error {
		return gw.Serve(ctx, capped, tc, cfg.Server.HTTPLimits(), cfg.Server.ShutdownGrace)
	}, lis.Addr(), nil
}
