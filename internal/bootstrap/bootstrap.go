package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/telemetry"
	"github.com/passage-cm/passage/internal/vault"
)

// Version is the build's version, set with -ldflags "-X ...bootstrap.Version=…".
var Version = "dev"

// Deps is what a service is built from.
type Deps struct {
	// Pool is connected as the service's own role.
	Pool *pgxpool.Pool
	Keys *vault.Keyring
}

// Service describes one gRPC service to run.
type Service struct {
	// Name is the full protobuf service name, for health checks.
	Name string
	// Short is the lower-case name used in PASSAGE_<SHORT>_DATABASE_URL ("intake").
	Short string
	// Role is the service's database role.
	Role   string
	Policy auth.Policy
	// Register builds the service and registers it on g. It returns the service's background
	// work (an outbox consumer, say), run until shutdown, or nil.
	Register func(d Deps, g *grpc.Server) (background func(context.Context) error)
}

// Run runs the services in one process until ctx ends, then shuts down: the gRPC server
// stops gracefully, then the pools close, then telemetry flushes (last in, first out).
func Run(ctx context.Context, cfg Config, logger *slog.Logger, services ...Service) (err error) {
	var cleanups []func(context.Context) error
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownGrace)
		defer cancel()
		for i := len(cleanups) - 1; i >= 0; i-- {
			err = errors.Join(err, cleanups[i](shutdownCtx))
		}
	}()

	tel, err := telemetry.Setup(ctx, "passage", Version)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, tel.Shutdown)

	keys, verifier, err := credentials(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if !cfg.Dev && !cfg.Server.TLS.Enabled() {
		// Allowed for a mesh or load balancer that terminates TLS on the same host; anywhere
		// else, bearer tokens and identities would cross the network in the clear.
		logger.Warn("gRPC without TLS outside development: set PASSAGE_TLS_CERT and PASSAGE_TLS_KEY unless a sidecar terminates TLS")
	}

	policy := auth.Policy{}
	pools := make([]*pgxpool.Pool, len(services))
	for i, s := range services {
		pools[i], err = database.Open(ctx, database.PoolConfig{
			URL: ServiceDatabaseURL(s.Short), AdminURL: cfg.DatabaseURL, Role: s.Role, MaxConns: cfg.MaxConns,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", s.Short, err)
		}
		pool := pools[i]
		cleanups = append(cleanups, func(context.Context) error { pool.Close(); return nil })
		for method, roles := range s.Policy {
			policy[method] = roles
		}
	}

	srv, err := server.New(cfg.Server, logger, server.Options{
		Verifier:  verifier,
		Policy:    policy,
		Telemetry: tel,
		Ready: func(ctx context.Context) error {
			for _, p := range pools {
				if err := p.Ping(ctx); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	var background []func(context.Context) error
	for i, s := range services {
		if work := s.Register(Deps{Pool: pools[i], Keys: keys}, srv.GRPC()); work != nil {
			background = append(background, work)
		}
		srv.SetServing(s.Name)
	}
	return runAll(ctx, srv.Run, background...)
}

// runAll runs the server and the background work together. When the context ends, or any of
// them stops with an error, all of them are stopped; the first error is returned.
func runAll(ctx context.Context, serve func(context.Context) error, background ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(background)+1)
	run := func(f func(context.Context) error) {
		err := f(ctx)
		if err != nil {
			cancel()
		}
		errs <- err
	}
	go run(serve)
	for _, f := range background {
		go run(f)
	}
	var first error
	for range len(background) + 1 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
		cancel() // the server stopping (cleanly) ends the background work too
	}
	return first
}

// credentials loads the vault keyring and the token verifier: development keys under DevDir
// in development, the configured keysets and JWKS otherwise.
func credentials(ctx context.Context, cfg Config, logger *slog.Logger) (*vault.Keyring, auth.Verifier, error) {
	var keys *vault.Keyring
	var err error
	if cfg.Dev {
		logger.Warn("development mode: local keys under the dev folder, development tokens accepted", "dir", cfg.DevDir)
		keys, err = vault.LoadOrCreateDevKeyring(cfg.DevDir)
	} else {
		keys, err = vault.LoadKeyring(cfg.KEKKeyset, cfg.BlindIndexKeyset)
	}
	if err != nil {
		return nil, nil, err
	}
	verifier, err := tokenVerifier(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return keys, verifier, nil
}

// tokenVerifier trusts the development key only in development; otherwise only the identity
// provider's JWKS, so a development key left on a production host signs nothing we accept.
func tokenVerifier(ctx context.Context, cfg Config) (auth.Verifier, error) {
	if cfg.Dev {
		signer, err := auth.LoadOrCreateDevKey(cfg.DevDir)
		if err != nil {
			return nil, err
		}
		return auth.Cached(auth.NewKeyVerifier(signer.Public(), auth.DevIssuer, auth.Audience), tokenCacheSize), nil
	}
	verifier, err := auth.NewJWKSVerifier(ctx, cfg.JWKSURL, cfg.TokenIssuer, cfg.TokenAudience)
	if err != nil {
		return nil, err
	}
	return auth.Cached(verifier, tokenCacheSize), nil
}

// tokenCacheSize bounds the verified tokens kept: a field office's staff, many times over.
const tokenCacheSize = 10_000

// NewLogger returns the process's JSON logger on stderr.
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
