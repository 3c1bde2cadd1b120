package testserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/retrypolicy"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/staffdir"
	"github.com/passage-cm/passage/internal/vault"
)

// Env is one running test server and what a test needs around it.
type Env struct {
	// AdminURL is the owner's URL of the test's own database.
	AdminURL string
	// Keys is the vault keyring the services use.
	Keys *vault.Keyring
	// AuditKey is the audit chain's key; Chain links the records with it.
	AuditKey *audit.Key
	// KeyFiles are the (development, cleartext) keysets Keys was loaded from, for tests
	// that rotate keys: write a new KEK keyset there, then KeyFiles.ReloadKEK(Keys).
	KeyFiles vault.KeyringFiles
	// Conn is a client connection to the server.
	Conn *grpc.ClientConn
	// Logs holds everything the server logged, at debug level and up.
	Logs *Buffer
	// Calls records every unary call made through Conn, in order.
	Calls *CallLog
	// Addr is the server's loopback TCP address ("127.0.0.1:PORT") when Options.TCP is set;
	// empty otherwise.
	Addr string
	// ProbeURL is the base URL of the server's probes ("http://127.0.0.1:PORT": /healthz,
	// /readyz, /metrics); see Probe.
	ProbeURL string
	// GatewayURL is the HTTP/JSON gateway's base URL ("http://127.0.0.1:PORT"), served on a
	// real listener when a service has HTTP bindings; empty otherwise.
	GatewayURL string

	signer ed25519.PrivateKey
	// owner writes the staff directory for Provision.
	owner *pgxpool.Pool
}

// Options says what to run.
type Options struct {
	// Services are run as `passage serve` runs them (bootstrap.Assemble): each with a pool of
	// its own role, their policies merged, their background work (outbox consumers) running
	// until the test ends. A test that needs a service built otherwise (other options, no
	// background work) hands a Service whose Register builds it from the Deps it is given.
	Services []bootstrap.Service
	// Clock is the services' clock (bootstrap.Deps.Clock): time.Now unless set. Tests that
	// need "today" to hold still use a testtime.Clock's Now.
	Clock func() time.Time
	// MaxRecvMsgBytes overrides the server's request size limit when non-zero.
	MaxRecvMsgBytes int
	// WebhookAllowNetworks is handed to the services as PASSAGE_WEBHOOK_ALLOW_NETWORKS would
	// be (bootstrap.Deps): none, as in production, unless set.
	WebhookAllowNetworks []netip.Prefix
	// Quota is the server's quota configuration: none (its zero value) unless set, so that
	// tests calling in tight loops as one caller measure what they mean to.
	Quota quota.Config
	// CachedTokens verifies tokens through the cache `passage serve` uses (auth.Cached), for
	// benchmarks that should pay what production pays per call; tests verify every token.
	CachedTokens bool
	// Database is the owner's URL of an already migrated database to run on (the primary of
	// a pgtest.Replicated, say); a fresh pgtest.New clone unless set.
	Database string
	// Replica is the owner's URL of a hot standby of Database: services with ReplicaReads
	// read from it with their own role (bootstrap.Parts.Replica), as
	// PASSAGE_<SHORT>_REPLICA_DATABASE_URL makes them in production. None unless set.
	Replica string
	// ReplicaMaxLag is the replica's lag bound (PASSAGE_ANALYTICS_REPLICA_MAX_LAG): its
	// default unless set.
	ReplicaMaxLag time.Duration
	// DocumentBucket, when set, keeps the documents' chunks, as PASSAGE_DOCUMENT_STORE=s3
	// does (internal/objectstore/miniotest gives a test one); Postgres keeps them otherwise.
	DocumentBucket *objectstore.Bucket
	// TCP serves gRPC on a loopback TCP listener (Env.Addr) instead of an in-memory one, for
	// clients that dial an address, as the passage CLI does.
	TCP bool
}

// Start runs a server for the test and stops it when the test ends. The server is assembled
// as bootstrap.Run assembles it, from development keys, with the partner gateway (when a
// service has HTTP bindings) on a loopback port of its own.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	recordSpans()
	dir := t.TempDir()
	lis, dialer, err := grpcListener(opts.TCP)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = lis.Close() }) // the server closes it too, unless Start fails first
	keys, err := vault.LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	signer, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("dev key: %v", err)
	}
	auditKey, err := audit.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("audit key: %v", err)
	}
	if opts.Database == "" {
		opts.Database = pgtest.New(t)
	}
	env := &Env{AdminURL: opts.Database, Keys: keys, KeyFiles: vault.DevKeyringFiles(dir), AuditKey: auditKey, Logs: &Buffer{}, Calls: &CallLog{}, signer: signer}
	if env.owner, err = pgxpool.New(context.Background(), env.AdminURL); err != nil {
		t.Fatalf("owner's pool: %v", err)
	}
	t.Cleanup(env.owner.Close)

	logger := slog.New(slog.NewJSONHandler(env.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := bootstrap.Config{
		// Development keys and tokens, and a partner gateway in the clear, as `passage serve --dev`.
		Dev: true,
		Server: server.Config{ShutdownGrace: 5 * time.Second, MaxRecvMsgBytes: opts.MaxRecvMsgBytes, Quota: opts.Quota,
			PartnerHTTPAddr: "127.0.0.1:0"},
		PrivacyYearlyEpsilon:   privacy.DefaultYearlyEpsilon,
		WebhookAllowNetworks:   opts.WebhookAllowNetworks,
		AnalyticsReplicaMaxLag: opts.ReplicaMaxLag,
	}
	if cfg.Server.MaxRecvMsgBytes == 0 {
		cfg.Server.MaxRecvMsgBytes = server.DefaultMaxRecvMsgBytes
	}
	verifier := auth.NewKeyVerifier(signer.Public(), auth.DevIssuer, auth.Audience)
	if opts.CachedTokens {
		verifier = auth.Cached(verifier, 1024)
	}
	pool := func(s bootstrap.Service, worker bool) (*pgxpool.Pool, error) {
		role := s.Role
		if worker {
			role = s.WorkerRole
		}
		return env.Pool(t, role), nil
	}
	var replica func(s bootstrap.Service) (*pgxpool.Pool, error)
	if opts.Replica != "" {
		replica = func(s bootstrap.Service) (*pgxpool.Pool, error) {
			p, err := database.Open(context.Background(), database.PoolConfig{AdminURL: opts.Replica, Role: s.Role})
			if err != nil {
				return nil, err
			}
			t.Cleanup(p.Close)
			return p, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := bootstrap.Assemble(ctx, cfg, bootstrap.Parts{Logger: logger, Keys: keys, Verifier: verifier, Pool: pool, Replica: replica, Clock: opts.Clock,
		DocumentBucket: opts.DocumentBucket},
		opts.Services...)
	if err != nil {
		cancel()
		t.Fatalf("assemble the server: %v", err)
	}
	if a.PartnerAddr != nil {
		env.GatewayURL = "http://" + a.PartnerAddr.String()
	}

	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatalf("listen: %v", err)
	}
	env.ProbeURL = "http://" + httpLis.Addr().String()
	done := make(chan error, 1+len(a.Background))
	go func() { done <- a.Server.RunOn(ctx, lis, httpLis) }()
	for _, work := range a.Background {
		go func() { done <- work(ctx) }()
	}

	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(),
		grpc.WithContextDialer(dialer),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)),
		grpc.WithUnaryInterceptor(env.Calls.intercept),
		// As the passage CLI does: a case a service has not applied yet is retried, not failed.
		retrypolicy.DialOption(),
	)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	env.Conn = conn
	if opts.TCP {
		env.Addr = lis.Addr().String()
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		for range 1 + len(a.Background) {
			if err := <-done; err != nil {
				t.Errorf("server or background work stopped with %v", err)
			}
		}
	})
	return env
}

// WithoutBackground returns s with its background work (an outbox consumer, say) left unrun,
// for tests of what the request path does alone.
func WithoutBackground(s bootstrap.Service) bootstrap.Service {
	register := s.Register
	s.Register = func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
		register(d, g)
		return nil
	}
	return s
}

// Probe GETs path ("/readyz?service=…") from the server's probes and returns the status
// code and the body.
func (e *Env) Probe(t testing.TB, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ProbeURL+path, nil)
	if err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, resp.Body); err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	return resp.StatusCode, body.String()
}

// Pool connects to the test database as a service role, closed when the test ends.
func (e *Env) Pool(t testing.TB, role string) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), database.PoolConfig{AdminURL: e.AdminURL, Role: role})
	if err != nil {
		t.Fatalf("pool as %s: %v", role, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Token mints a development token for a caller; every caller of a role is the same staff
// member, "staff-<role>". StaffToken names another.
func (e *Env) Token(t testing.TB, role auth.Role, mission string) string {
	t.Helper()
	return e.StaffToken(t, "staff-"+string(role), role, mission)
}

// StaffToken mints a development token for the staff member subject, and puts them in the
// staff directory (Provision) as though they had signed in once, so that a supervisor may
// assign them a case before their first call.
func (e *Env) StaffToken(t testing.TB, subject string, role auth.Role, mission string) string {
	t.Helper()
	if role != auth.RolePartner {
		e.Provision(t, subject, role, mission)
	}
	tok, err := auth.MintToken(e.signer, auth.DevIssuer, auth.Audience,
		auth.Claims{Subject: subject, Role: role, Mission: mission}, time.Hour)
	if err != nil {
		t.Fatalf("mint token: %v", err)
	}
	return tok
}

// Provision puts subject in the staff directory as an active member of mission with role,
// provisioned from claims, as PASSAGE_STAFF_DIRECTORY=claims adds them at their first call
// (and moves them when a token of theirs names another mission or role). A member who is
// inactive, or whom an administrator provisioned, is left as they are.
//
// Tests running at once may provision the same subject. The insert therefore names no
// conflict target, as the directory's own sign-in does (internal/staffdir): a racing insert
// may meet the other on member_id (derived from staff_id) before staff_id, and Postgres
// raises a conflict on a unique index that is not the target's.
func (e *Env) Provision(t testing.TB, subject string, role auth.Role, mission string) {
	t.Helper()
	ctx := context.Background()
	added, err := e.owner.Exec(ctx, `INSERT INTO intake.staff_member
  (staff_id, member_id, mission, role, active, provisioned_by, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, true, 'claims', 1, now(), now())
ON CONFLICT DO NOTHING`, subject, staffdir.MemberID(subject), mission, string(role))
	if err == nil && added.RowsAffected() == 0 {
		_, err = e.owner.Exec(ctx, `UPDATE intake.staff_member SET mission = $2, role = $3, version = version + 1, updated_at = now()
WHERE staff_id = $1 AND active AND provisioned_by = 'claims' AND (mission, role) IS DISTINCT FROM ($2, $3)`,
			subject, mission, string(role))
	}
	if err != nil {
		t.Fatalf("provision %s: %v", subject, err)
	}
}

// PartnerToken mints a development token for the partner agency partnerID (role partner, no
// mission), as `passage dev-token --role partner --partner ID` does.
func (e *Env) PartnerToken(t testing.TB, partnerID string) string {
	t.Helper()
	tok, err := auth.MintToken(e.signer, auth.DevIssuer, auth.Audience,
		auth.Claims{Subject: "partner-" + partnerID, Role: auth.RolePartner, Partner: partnerID}, time.Hour)
	if err != nil {
		t.Fatalf("mint token: %v", err)
	}
	return tok
}

// AsPartner returns a context whose calls carry a token for the partner agency partnerID.
func (e *Env) AsPartner(t testing.TB, partnerID string) context.Context {
	t.Helper()
	return WithToken(context.Background(), e.PartnerToken(t, partnerID))
}

// As returns a context whose calls carry a token for the caller.
func (e *Env) As(t testing.TB, role auth.Role, mission string) context.Context {
	t.Helper()
	return WithToken(context.Background(), e.Token(t, role, mission))
}

// AsStaff returns a context whose calls carry a token for the staff member subject.
func (e *Env) AsStaff(t testing.TB, subject string, role auth.Role, mission string) context.Context {
	t.Helper()
	return WithToken(context.Background(), e.StaffToken(t, subject, role, mission))
}

// WithToken returns ctx with a bearer token in its outgoing metadata.
func WithToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// Buffer is a bytes.Buffer safe for the server's goroutines to write while a test reads.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Signer returns the development key whose tokens the server trusts, for tests that forge
// tokens around it (expired, for another audience, from another issuer).
func (e *Env) Signer() ed25519.PrivateKey {
	return e.signer
}
