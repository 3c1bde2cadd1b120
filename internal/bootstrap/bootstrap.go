package bootstrap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/buildinfo"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/gateway"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/procshare"
	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/staffdir"
	"github.com/passage-cm/passage/internal/telemetry"
	"github.com/passage-cm/passage/internal/vault"
)

// Version is the build's version, read once from internal/buildinfo (the one source: set it
// there at link time, not here), for telemetry's service.version and analytics' provenance.
var Version = buildinfo.Version()

// Deps is what a service is built from.
type Deps struct {
	// Pool is connected as the service's own role.
	Pool *pgxpool.Pool
	// WorkerPool is connected as the service's WorkerRole, for its background work; it is Pool
	// when the service has no WorkerRole.
	WorkerPool *pgxpool.Pool
	// ReplicaPool is connected as Role to a hot standby, for the service's read-only queries,
	// when the service has ReplicaReads and PASSAGE_<SHORT>_REPLICA_DATABASE_URL is set; it is
	// Pool otherwise. What writes uses Pool, always.
	ReplicaPool *pgxpool.Pool
	Keys        *vault.Keyring
	// Retention and RetentionInterval configure the retention job (intake runs it); an
	// interval of 0 disables it.
	Retention         retention.Policy
	RetentionInterval time.Duration
	// PrivacyYearlyEpsilon is the yearly ε budget of each consumer of differentially private
	// releases (analytics keeps the ledger).
	PrivacyYearlyEpsilon float64
	// WebhookAllowNetworks are the non-public networks webhooks may reach (Config's; empty in
	// production).
	WebhookAllowNetworks []netip.Prefix
	// RegisterBatchesInFlight is how many registration batches intake's processes write at
	// once on the database, all together (Config's; 0 for intake's default): each process takes
	// its share of it.
	RegisterBatchesInFlight int
	// Documents configure the documents service: its store and its size limit.
	Documents DocumentDeps
	Logger    *slog.Logger
	// Directory is the process's copy of the staff directory (internal/staffdir), which
	// admits every staff call.
	Directory *staffdir.Directory
	// Clock is the time the service goes by ("today", deadlines, timestamps it records):
	// time.Now in production, a test's own clock under internal/testserver. Never nil.
	Clock func() time.Time
}

// Service describes one gRPC service to run.
type Service struct {
	// Name is the full protobuf service name, for health checks.
	Name string
	// Short is the lower-case name used in PASSAGE_<SHORT>_DATABASE_URL ("intake").
	Short string
	// Role is the service's database role.
	Role string
	// WorkerRole, when set, is a second role for the service's background work, kept apart
	// from the role that serves calls (analytics answers queries from anonymised tables with
	// Role, and projects the pseudonymous outbox events into them with WorkerRole). Its pool
	// is configured by PASSAGE_<SHORT>_WORKER_DATABASE_URL.
	WorkerRole string
	// ReplicaReads says the service's read-only queries may go to a Postgres streaming
	// replica (a hot standby), configured by PASSAGE_<SHORT>_REPLICA_DATABASE_URL and
	// connected as Role (Deps.ReplicaPool). Only a service whose reads tolerate the replica's
	// lag sets it: analytics, whose answers carry the time their data is as of.
	ReplicaReads bool
	// Includes names the further gRPC services Register registers beside this one, with its
	// role, pool and keyring (intake's case notes): each is marked serving with it, and its
	// methods are in Policy.
	Includes []string
	Policy   auth.Policy
	// Register builds the service and registers it on g. It returns the service's background
	// work (an outbox consumer, say), run until shutdown, or nil.
	Register func(d Deps, g *grpc.Server) (background func(context.Context) error)
	// Gateway, when set, registers the service's google.api.http bindings on the HTTP/JSON
	// gateway partners use (the generated Register<Service>Handler).
	Gateway gateway.Registrar
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

	keys, files, verifier, err := credentials(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if !cfg.Dev && !cfg.Server.TLS.Enabled() {
		// Allowed for a mesh or load balancer that terminates TLS on the same host; anywhere
		// else, bearer tokens and identities would cross the network in the clear.
		logger.Warn("gRPC without TLS outside development: set PASSAGE_TLS_CERT and PASSAGE_TLS_KEY unless a sidecar terminates TLS")
	}
	if len(cfg.WebhookAllowNetworks) > 0 {
		// Meant for development: in production a partner URL must not reach internal networks.
		logger.Warn("webhooks may be delivered to these non-public networks, and over plain http",
			"networks", fmt.Sprint(cfg.WebhookAllowNetworks), "dev", cfg.Dev)
	}
	auditKey, err := LoadAuditKey(cfg)
	if err != nil {
		return err
	}
	// The audit chainer connects as the auditor, the one role that may append links.
	auditPool, err := database.Open(ctx, database.PoolConfig{
		URL: ServiceDatabaseURL("auditor"), AdminURL: cfg.DatabaseURL, Role: audit.Role, MaxConns: 2,
	})
	if err != nil {
		return fmt.Errorf("auditor: %w", err)
	}
	cleanups = append(cleanups, func(context.Context) error { auditPool.Close(); return nil })
	observe := func(role string, pool *pgxpool.Pool) error {
		unregister, err := database.ObservePool(tel.MeterProvider(), role, pool)
		if err != nil {
			return fmt.Errorf("%s pool metrics: %w", role, err)
		}
		// Runs before the pool's own cleanup (last in, first out).
		cleanups = append(cleanups, func(context.Context) error { return unregister() })
		return nil
	}
	if err := observe(audit.Role, auditPool); err != nil {
		return err
	}

	// Each service's pools connect as its roles; their metrics are unregistered before they
	// close (last in, first out). A service's own pool names its connections for the service
	// and this process ("passage-intake/<random id>"), so that the service's processes can
	// count each other (internal/procshare) and pg_stat_activity tells them apart.
	process := procshare.NewProcessID()
	pool := func(s Service, worker bool) (*pgxpool.Pool, error) {
		name, pc := s.Short, database.PoolConfig{URL: ServiceDatabaseURL(s.Short), AdminURL: cfg.DatabaseURL, Role: s.Role, MaxConns: cfg.MaxConns,
			ApplicationName: procshare.ApplicationName(s.Short, process)}
		if worker {
			name, pc = s.Short+" worker", database.PoolConfig{URL: ServiceDatabaseURL(s.Short + "_worker"), AdminURL: cfg.DatabaseURL, Role: s.WorkerRole, MaxConns: 2}
		}
		p, err := database.Open(ctx, pc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cleanups = append(cleanups, func(context.Context) error { p.Close(); return nil })
		return p, observe(pc.Role, p)
	}
	// A service's replica pool, when its replica URL is set, must connect as its own role: the
	// role is what keeps it to the tables it may read.
	replica := func(s Service) (*pgxpool.Pool, error) {
		url := ServiceDatabaseURL(s.Short + "_replica")
		if url == "" {
			return nil, nil
		}
		p, err := openReplica(ctx, url, s.Role, cfg.MaxConns)
		if err != nil {
			return nil, fmt.Errorf("%s replica: %w", s.Short, err)
		}
		cleanups = append(cleanups, func(context.Context) error { p.Close(); return nil })
		return p, observe(s.Role+" replica", p)
	}
	bucket, err := OpenDocumentBucket(ctx, cfg)
	if err != nil {
		return err
	}
	a, err := Assemble(ctx, cfg, Parts{Logger: logger, Keys: keys, Verifier: verifier, Telemetry: tel, Pool: pool, Replica: replica,
		DocumentBucket: bucket}, services...)
	if err != nil {
		return err
	}
	// Every process chains audit records (several at once take turns, see audit.Chainer) and
	// picks up a rotated key-encryption key.
	background := append([]func(context.Context) error{
		audit.NewChainer(auditPool, auditKey, audit.ChainerConfig{Logger: logger, MeterProvider: tel.MeterProvider()}).Run,
		func(ctx context.Context) error { return reloadKEK(ctx, files, keys, cfg.KEKReload, logger) },
	}, a.Background...)
	return RunAll(ctx, append([]func(context.Context) error{a.Server.Run}, background...)...)
}

// partnerTLS is the partner gateway's TLS configuration, from its own files only: never
// gRPC's client CA, which vouches for IOM's own clients, not for partner agencies. With
// gRPC on TLS, a gateway without files of its own is refused rather than served in the clear
// beside it; with neither, both are in the clear (a laptop, or a proxy that terminates TLS).
func partnerTLS(c server.Config) (*tls.Config, error) {
	switch {
	case c.PartnerTLS.Enabled():
		tc, err := mtls.ServerConfig(c.PartnerTLS)
		if err != nil {
			return nil, fmt.Errorf("partner gateway: %w", err)
		}
		return tc, nil
	case c.TLS.Enabled():
		return nil, errors.New("partner gateway: gRPC has TLS but the gateway has none of its own: set PASSAGE_PARTNER_TLS_CERT and " +
			"PASSAGE_PARTNER_TLS_KEY (and PASSAGE_PARTNER_TLS_CLIENT_CA to require partner client certificates), or PASSAGE_PARTNER_HTTP_ADDR=off")
	}
	return nil, nil
}

// RunAll runs work together: the server and the background work of `passage serve`, or a
// service's own background jobs. When the context ends, or any of them stops (with an error
// or not), all of them are stopped; the first error is returned.
func RunAll(ctx context.Context, work ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(work))
	for _, f := range work {
		go func() { errs <- f(ctx) }()
	}
	var first error
	for range work {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
		cancel() // one stopping, even cleanly (the server at shutdown), ends the others
	}
	return first
}

// credentials loads the vault keyring and the token verifier: development keys under DevDir
// in development, the configured keysets (encrypted under the key manager's key) and JWKS
// otherwise. It also returns where the keyring came from, for reloading.
func credentials(ctx context.Context, cfg Config, logger *slog.Logger) (*vault.Keyring, vault.KeyringFiles, auth.Verifier, error) {
	files, err := KeyringFiles(cfg)
	if err != nil {
		return nil, files, nil, err
	}
	var keys *vault.Keyring
	if cfg.Dev {
		logger.Warn("development mode: development tokens accepted", "dir", cfg.DevDir, "kms", cfg.KEKURI != "")
	}
	if cfg.Dev && cfg.KEKURI == "" {
		keys, err = vault.LoadOrCreateDevKeyring(cfg.DevDir)
	} else {
		keys, err = files.Load()
	}
	if err != nil {
		return nil, files, nil, err
	}
	verifier, err := tokenVerifier(ctx, cfg)
	if err != nil {
		return nil, files, nil, err
	}
	return keys, files, verifier, nil
}

// tokenVerifier trusts the development key only in development; otherwise only the identity
// provider's JWKS, so a development key left on a production host signs nothing we accept.
// Either way tokens living longer than PASSAGE_MAX_TOKEN_LIFETIME are refused.
func tokenVerifier(ctx context.Context, cfg Config) (auth.Verifier, error) {
	maxLifetime := auth.WithMaxLifetime(cfg.Server.MaxTokenLifetime)
	if cfg.Dev {
		signer, err := auth.LoadOrCreateDevKey(cfg.DevDir)
		if err != nil {
			return nil, err
		}
		return auth.Cached(auth.NewKeyVerifier(signer.Public(), auth.DevIssuer, auth.Audience, maxLifetime), tokenCacheSize), nil
	}
	verifier, err := auth.NewJWKSVerifier(ctx, cfg.JWKSURL, cfg.TokenIssuer, cfg.TokenAudience, maxLifetime)
	if err != nil {
		return nil, err
	}
	return auth.Cached(verifier, tokenCacheSize), nil
}

// reloadKEK re-reads the KEK keyset every interval and on SIGHUP, so that a rotation made by
// `passage keys rotate` (which rewrites the file) reaches every running process without a
// restart: new data keys are wrapped by the new primary key from the next reload on. A
// failed reload keeps the current keyset and is logged; it does not stop the server.
func reloadKEK(ctx context.Context, files vault.KeyringFiles, keys *vault.Keyring, interval time.Duration, logger *slog.Logger) error {
	if interval <= 0 {
		interval = defaultKEKReload
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-hup:
		}
		changed, err := files.ReloadKEK(keys)
		switch {
		case err != nil:
			logger.ErrorContext(ctx, "key-encryption keyset reload failed; keeping the current one", middleware.ErrorAttr(err))
		case changed:
			// Key ids are not secret (Tink writes them in the clear before every ciphertext).
			logger.InfoContext(ctx, "key-encryption keyset reloaded", "primary_key_id", keys.KEKPrimary(), "keys", len(keys.KEKKeyIDs()))
		}
	}
}

// LoadAuditKey loads the audit chain's key: the development keyset under DevDir in
// development, the configured keyset (encrypted under the key manager's key) otherwise. It
// never creates a production key: a fresh key would only make every existing link fail.
func LoadAuditKey(cfg Config) (*audit.Key, error) {
	if cfg.Dev {
		return audit.LoadOrCreateDevKey(cfg.DevDir)
	}
	f, err := AuditKeysetFile(cfg)
	if err != nil {
		return nil, err
	}
	h, err := f.Read()
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return audit.NewKey(h)
}

// tokenCacheSize bounds the verified tokens kept: a field office's staff, many times over.
const tokenCacheSize = 10_000

// NewLogger returns the process's JSON logger on stderr, with the trace and span ids of the
// context a line is logged with (telemetry.NewLogger).
func NewLogger(level slog.Level) *slog.Logger {
	return telemetry.NewLogger(os.Stderr, level)
}
