package intake

import (
	"context"
	"log/slog"
	"maps"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/groupcommit"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake/casenote"
	"github.com/passage-cm/passage/services/intake/document"
	"github.com/passage-cm/passage/services/intake/search"
	"github.com/passage-cm/passage/services/intake/staff"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.intake.v1.IntakeService"

// Role is the database role intake connects with.
const Role = "passage_intake"

// producer names intake in the outbox.
const producer = "intake"

// Policy lists who may call each RPC. Field staff work on their own mission's cases; HQ
// roles and partners get no case from intake. Supervisors assign cases, break glass and erase
// a person; the break-glass grants are reviewed by supervisors and by the mission's
// administrators, who see which case was opened by whom and when, never the case's content.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	supervisor := []auth.Role{auth.RoleSupervisor}
	review := []auth.Role{auth.RoleSupervisor, auth.RoleAdmin}
	return auth.Policy{
		intakev1.IntakeService_AssignCase_FullMethodName:           supervisor,
		intakev1.IntakeService_UnassignCase_FullMethodName:         supervisor,
		intakev1.IntakeService_BreakGlass_FullMethodName:           supervisor,
		intakev1.IntakeService_ListBreakGlassGrants_FullMethodName: review,
		intakev1.IntakeService_ReviewBreakGlass_FullMethodName:     review,
		intakev1.IntakeService_RegisterCase_FullMethodName:         field,
		intakev1.IntakeService_GetCase_FullMethodName:              field,
		intakev1.IntakeService_ListCases_FullMethodName:            field,
		intakev1.IntakeService_UpdateCase_FullMethodName:           field,
		intakev1.IntakeService_CloseCase_FullMethodName:            field,
		intakev1.IntakeService_OpenCase_FullMethodName:             field,
		intakev1.IntakeService_ErasePerson_FullMethodName:          eraseRoles,
		// Consent is recorded and withdrawn by the field staff who meet the person.
		intakev1.IntakeService_RecordConsent_FullMethodName:   field,
		intakev1.IntakeService_WithdrawConsent_FullMethodName: field,
		// The history holds codes, dates and staff subjects, never identity: any field staff
		// of the mission reads it, as GetCase's basic view.
		intakev1.IntakeService_GetCaseHistory_FullMethodName: field,
	}
}

// identityRoles may read decrypted identity (CASE_VIEW_FULL), and then only of the cases they
// work on or hold a break-glass grant for (see access.go).
var identityRoles = []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}

// Service implements intakev1.IntakeServiceServer.
type Service struct {
	intakev1.UnimplementedIntakeServiceServer

	db   *database.DB
	keys *vault.Keyring
	idem *idempotency.Store
	now  func() time.Time
	// consumer applies the hand-over service's events that share a case with another mission
	// (share.go); catchUpWait bounds how long a call that finds no case waits for it.
	consumer    *outbox.Consumer
	catchUpWait time.Duration
	// checkMission is the server's own mission check on reads by id; only tests switch it
	// off, to show that row-level security refuses another mission's case by itself.
	checkMission bool
	// registrar writes the registrations that arrive together as one (registrar.go).
	registrar *groupcommit.Batcher[*pendingCase]
	batch     groupcommit.Config
	// beforeBatch and afterLookup, when set (by tests only), run as a mission's part of a
	// batch starts and once its look-ups are done.
	beforeBatch, afterLookup func([]*pendingCase)
	// cases runs every change to an existing case (mutate).
	cases mutation.Kind[*intakev1.Case]
	// assignments runs every change of who works on a case (AssignCase, UnassignCase), access
	// a break-glass read (BreakGlass), grants the review of a break-glass grant.
	assignments mutation.Kind[lockedCase]
	access      mutation.Kind[lockedCase]
	grants      mutation.Kind[*intakev1.BreakGlassGrant]
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that decides "today" (tests use a fixed one).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithRegisterBatchesInFlight sets how many registration batches the processes that run
// intake on one database write at once, all together (registerBatchInFlight by default); n <= 0
// keeps the default. A process alone writes them all; several divide them, each taking
// max(1, n / processes) once its background work counts them (registerShare), so that the
// database sees as many batches at once, each as large, as with one process.
func WithRegisterBatchesInFlight(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.batch.MaxInFlight = n
		}
	}
}

// catchUpWait is how long, by default, a call that finds no case of the caller's mission nor
// any shared with it waits for the hand-over consumer (an acceptance a moment old).
const catchUpWait = 3 * time.Second

// New returns the service over a pool connected as Role and the vault's keyring.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:           database.NewDB(pool),
		keys:         keys,
		idem:         idempotency.NewStore("intake.idempotency", "idempotency_pkey"),
		now:          time.Now,
		catchUpWait:  catchUpWait,
		checkMission: true,
		batch:        groupcommit.Config{MaxBatch: registerBatchMax, MaxInFlight: registerBatchInFlight, Name: "intake.register"},
	}
	s.consumer = outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "intake.outbox_cursor",
		// Partitioned: an acceptance and a completion are filed under their case; a
		// profile, under its own id, may land after an acceptance naming its version, which
		// a read of the share then misses until awaitShare catches up on every partition.
		Partitions:  outbox.IndexedPartitions,
		Types:       shareEvents,
		Handle:      applyHandoverEvent,
		HandleBatch: applyHandoverEvents,
	})
	for _, o := range opts {
		o(s)
	}
	s.registrar = s.newRegistrar(s.batch)
	s.cases, s.assignments, s.access, s.grants = s.kind(), s.assignmentKind(), s.accessKind(), s.grantKind()
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	intakev1.RegisterIntakeServiceServer(g, s)
}

// missionFilter is the mission the server itself filters a read by id on: the caller's, or
// none when a test switched the check off (the database still declares the caller's).
func (s *Service) missionFilter(who auth.Claims) string {
	if !s.checkMission {
		return ""
	}
	return who.Mission
}

// clock returns now as Postgres keeps it (database.Timestamp), so that the times a call
// returns are the times a later read returns.
func (s *Service) clock() time.Time {
	return database.Timestamp(s.now())
}

// documentOptions builds the documents service as d says: its clock, its size limit and,
// with a bucket, the object store and the sweep of the bucket (run in the background,
// returned; nil without a bucket).
func documentOptions(d bootstrap.Deps, logger *slog.Logger) ([]document.Option, func(context.Context) error) {
	opts := []document.Option{document.WithClock(d.Clock), document.WithLogger(logger)}
	if d.Documents.MaxBytes > 0 {
		opts = append(opts, document.WithMaxBytes(d.Documents.MaxBytes))
	}
	if d.Documents.Bucket == nil {
		return opts, nil
	}
	opts = append(opts, document.WithStore(document.NewObjectStore(d.Documents.Bucket)))
	interval := d.Documents.SweepInterval
	if interval <= 0 {
		interval = time.Hour
	}
	sweeper := document.NewSweeper(d.Pool, d.Documents.Bucket, document.DefaultSweepGrace)
	return opts, sweeper.Run(interval, logger)
}

// Spec describes intake for bootstrap.Run, with the services it serves beside itself on its
// role, pool and keyring (their Policy joins intake's): the case notes (casenote), the
// documents (document), the person search (search) and the staff directory (staff). Its
// background work is the hand-over consumer, the count of intake's live processes that divides
// the registration batches in flight between them (registerShare), when an interval is
// configured the retention job, and, when the documents are kept in a bucket, the bucket's
// sweep.
func Spec() bootstrap.Service {
	policy := Policy()
	maps.Copy(policy, casenote.Policy())
	maps.Copy(policy, document.Policy())
	maps.Copy(policy, search.Policy())
	maps.Copy(policy, staff.Policy())
	return bootstrap.Service{
		Name:   Name,
		Short:  producer,
		Role:   Role,
		Policy: policy,
		// The case notes, the documents, the person search and the staff directory run with
		// intake's role, pool and keyring.
		Includes: []string{casenote.Name, document.Name, search.Name, staff.Name},
		Register: func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
			s := New(d.Pool, d.Keys, WithClock(d.Clock), WithRegisterBatchesInFlight(d.RegisterBatchesInFlight))
			s.Register(g)
			casenote.New(d.Pool, d.Keys, s, d.Clock).Register(g)
			logger := d.Logger
			if logger == nil {
				logger = slog.Default()
			}
			docOpts, sweep := documentOptions(d, logger)
			document.New(d.Pool, d.Keys, s, docOpts...).Register(g)
			search.New(d.Pool, d.Keys, d.Clock).Register(g)
			staff.New(d.Pool, d.Keys, s, d.Directory, d.Clock).Register(g)
			work := []func(context.Context) error{s.consumer.Run, s.registerShare(d.Pool, logger).Run}
			if sweep != nil {
				work = append(work, sweep)
			}
			if d.RetentionInterval > 0 {
				work = append(work, s.retentionJob(d.Retention, d.RetentionInterval, logger))
			}
			return func(ctx context.Context) error { return bootstrap.RunAll(ctx, work...) }
		},
	}
}
