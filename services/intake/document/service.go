package document

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	"github.com/passage-cm/passage/services/intake/casenote"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.document.v1.DocumentService"

// producer names the service in the outbox: intake's, whose role writes the events.
const producer = "intake"

// DefaultMaxBytes is the largest file an upload accepts unless WithMaxBytes says otherwise.
const DefaultMaxBytes = 20 << 20

// Policy lists who may call each RPC: the field staff; which documents of which case each may
// upload or read, intake's access rules decide.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	return auth.Policy{
		documentv1.DocumentService_UploadDocument_FullMethodName:   field,
		documentv1.DocumentService_DownloadDocument_FullMethodName: field,
		documentv1.DocumentService_GetDocument_FullMethodName:      field,
		documentv1.DocumentService_ListDocuments_FullMethodName:    field,
	}
}

// Service implements documentv1.DocumentServiceServer.
type Service struct {
	documentv1.UnimplementedDocumentServiceServer

	db       *database.DB
	keys     *vault.Keyring
	cases    casenote.Cases
	store    Store
	maxBytes int64
	now      func() time.Time
	logger   *slog.Logger
	// uploads runs UploadDocument on the case.
	uploads mutation.Kind[casenote.Access]
}

// Option configures a Service.
type Option func(*Service)

// WithMaxBytes sets the largest file an upload accepts (DefaultMaxBytes otherwise).
func WithMaxBytes(n int64) Option { return func(s *Service) { s.maxBytes = n } }

// WithStore sets where the chunks are kept (PostgresStore otherwise).
func WithStore(st Store) Option { return func(s *Service) { s.store = st } }

// WithLogger sets the logger of what fails after a call has returned (slog.Default
// otherwise).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithClock sets the clock (time.Now when now is nil).
func WithClock(now func() time.Time) Option {
	return func(s *Service) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns the service over a pool connected as intake's role, the vault's keyring and
// intake's cases (which decide access as for case notes), keeping the chunks in Postgres
// unless WithStore says otherwise.
func New(pool *pgxpool.Pool, keys *vault.Keyring, cases casenote.Cases, opts ...Option) *Service {
	s := &Service{db: database.NewDB(pool), keys: keys, cases: cases, store: PostgresStore{}, maxBytes: DefaultMaxBytes, now: time.Now,
		logger: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.uploads = mutation.Kind[casenote.Access]{
		DB: s.db, Idem: idempotency.NewStore("intake.idempotency", "idempotency_pkey"), Producer: producer, Clock: s.clock,
		Parse: parseCaseID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (casenote.Access, error) {
			return cases.NoteAccess(ctx, tx, who, id, commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED)
		},
		Mission: func(a casenote.Access) string { return a.Mission },
		Await:   cases.AwaitShare,
	}
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	documentv1.RegisterDocumentServiceServer(g, s)
}

// clock returns now as Postgres keeps it, so that the times a call returns are the times a
// later read returns.
func (s *Service) clock() time.Time {
	return database.Timestamp(s.now())
}
