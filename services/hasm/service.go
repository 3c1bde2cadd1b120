package hasm

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/vault"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.hasm.v1.StrandedMigrantService"

// Role is the database role the service connects with.
const Role = "passage_hasm"

// producer names the service in the outbox and its consumer's cursor.
const producer = "hasm"

// Policy lists who may call each RPC. Field staff request assistance and record the return
// for their own mission (a mission given a case's part by a hand-over, for the case); programme managers at HQ decide and read every mission's requests;
// funds are kept by programme managers and admins at HQ. The handlers check the HQ mission.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	readers := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor, auth.RoleProgrammeManager}
	funds := []auth.Role{auth.RoleProgrammeManager, auth.RoleAdmin}
	return auth.Policy{
		hasmv1.StrandedMigrantService_RequestAssistance_FullMethodName: field,
		hasmv1.StrandedMigrantService_GetRequest_FullMethodName:        readers,
		hasmv1.StrandedMigrantService_ListRequests_FullMethodName:      readers,
		hasmv1.StrandedMigrantService_DecideRequest_FullMethodName:     {auth.RoleProgrammeManager},
		hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName:   field,
		hasmv1.StrandedMigrantService_RecordArrival_FullMethodName:     field,
		hasmv1.StrandedMigrantService_CloseRequest_FullMethodName:      field,
		hasmv1.StrandedMigrantService_CreateFund_FullMethodName:        funds,
		hasmv1.StrandedMigrantService_SetFundBudget_FullMethodName:     funds,
		hasmv1.StrandedMigrantService_GetFund_FullMethodName:           funds,
	}
}

// Service implements hasmv1.StrandedMigrantServiceServer.
type Service struct {
	hasmv1.UnimplementedStrandedMigrantServiceServer

	db       *database.DB
	keys     *vault.Keyring
	idem     *idempotency.Store
	consumer *outbox.Consumer
	now      func() time.Time
	// funds runs SetFundBudget.
	funds mutation.Kind[*hasmv1.Fund]
	// creator writes new funds and requests.
	creator mutation.Creator
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that decides "today" (tests use a fixed one).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// New returns the service over a pool connected as Role. The keyring only fingerprints
// requests for idempotency: the service never opens the vault.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:   database.NewDB(pool),
		keys: keys,
		idem: idempotency.NewStore("hasm.idempotency", "idempotency_pkey"),
		now:  time.Now,
	}
	s.consumer = outbox.NewConsumer(pool, consumerConfig())
	for _, o := range opts {
		o(s)
	}
	s.funds = s.fundKind()
	s.creator = mutation.Creator{DB: s.db, Idem: s.idem, Producer: producer}
	return s
}

// consumerConfig is the configuration of the consumer of intake's events and the hand-over
// service's acceptances: each drain's events together, and one at a time when a batch fails.
//
// consumerConfig, Register and Run are alike in every service that projects intake's cases:
// wiring of each service's own names, tables and handlers, with no logic to share.
func consumerConfig() outbox.ConsumerConfig {
	return outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "hasm.outbox_cursor",
		Partitions:  outbox.IndexedPartitions,
		Types:       slices.Concat(intakecase.Events, handoverpart.Events),
		Handle:      applyEvent,
		HandleBatch: applyEvents,
	}
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	hasmv1.RegisterStrandedMigrantServiceServer(g, s)
}

// Run applies intake's events to the case projection, and the hand-over service's acceptances
// to hasm.part, until ctx ends: the service's background work.
func (s *Service) Run(ctx context.Context) error {
	return s.consumer.Run(ctx)
}

// Spec describes the service for bootstrap.Run.
func Spec() bootstrap.Service {
	return bootstrap.Service{
		Name:   Name,
		Short:  producer,
		Role:   Role,
		Policy: Policy(),
		Register: func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
			s := New(d.Pool, d.Keys, WithClock(d.Clock))
			s.Register(g)
			return s.Run
		},
	}
}

// atHQ reports whether the caller sits at HQ in one of roles. Policy lets a role in; the
// mission decides whether that person acts for HQ or for a country mission.
func atHQ(c auth.Claims, roles ...auth.Role) bool {
	if c.Mission != auth.MissionHQ {
		return false
	}
	for _, r := range roles {
		if c.Role == r {
			return true
		}
	}
	return false
}

// requestScope is the mission whose request of a case the caller reads, given the mission the
// call names: a programme manager at HQ any mission's (the case's own mission's when named
// none), anyone else only their own.
func requestScope(c auth.Claims, named string) (string, error) {
	if atHQ(c, auth.RoleProgrammeManager) {
		return named, nil
	}
	if named != "" && !c.InMission(named) {
		return "", status.Error(codes.PermissionDenied, "mission: only the caller's mission's request can be read")
	}
	return c.Mission, nil
}

// clock returns now, at the microsecond precision Postgres keeps, so that the times a call
// returns are the times a later read returns.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}
