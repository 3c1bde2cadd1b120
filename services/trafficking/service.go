package trafficking

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/vault"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.trafficking.v1.TraffickingService"

// Role is the database role the trafficking service connects with.
const Role = "passage_trafficking"

// producer names the service in the outbox, and its outbox consumer.
const producer = "trafficking"

// catchUpWait bounds how long a request waits for the consumer's events to become readable when
// it names a case the projection has not seen yet, or one a hand-over gave the caller a part of
// a moment ago (see outbox.Consumer.CatchUp).
const catchUpWait = 3 * time.Second

// Policy lists who may call each RPC. Victim records are the most sensitive in the system:
// only the field staff of the case's mission, or of a mission holding a part of it, reach them;
// no HQ role, not even a programme manager, reads a victim case.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	return auth.Policy{
		traffickingv1.TraffickingService_RecordScreening_FullMethodName:                 field,
		traffickingv1.TraffickingService_RecordExploitation_FullMethodName:              field,
		traffickingv1.TraffickingService_RecordAssistance_FullMethodName:                field,
		traffickingv1.TraffickingService_EndAssistance_FullMethodName:                   field,
		traffickingv1.TraffickingService_RecordLawEnforcementCooperation_FullMethodName: field,
		traffickingv1.TraffickingService_AssessRisk_FullMethodName:                      field,
		traffickingv1.TraffickingService_CloseVictimCase_FullMethodName:                 field,
		traffickingv1.TraffickingService_GetVictimCase_FullMethodName:                   field,
		traffickingv1.TraffickingService_ListVictimCases_FullMethodName:                 field,
	}
}

// Service implements traffickingv1.TraffickingServiceServer.
type Service struct {
	traffickingv1.UnimplementedTraffickingServiceServer

	db *database.DB
	// checkMission is the server's own mission check on reads and changes by case id; only
	// tests switch it off, to show that row-level security refuses another mission's case.
	checkMission bool
	keys         *vault.Keyring
	idem         *idempotency.Store
	consumer     *outbox.Consumer
	now          func() time.Time
	// cases runs every change to a victim case (mutate).
	cases mutation.Kind[*worked]
}

// Option configures a Service.
type Option func(*Service, *outbox.ConsumerConfig)

// WithClock sets the clock that decides "today" (tests use a fixed one).
func WithClock(now func() time.Time) Option {
	return func(s *Service, _ *outbox.ConsumerConfig) { s.now = now }
}

// WithPollInterval sets how often the background work looks for intake's events.
func WithPollInterval(d time.Duration) Option {
	return func(_ *Service, c *outbox.ConsumerConfig) { c.PollInterval = d }
}

// New returns the service over a pool connected as Role. The keyring only fingerprints
// requests for idempotency: the service never opens the vault.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:           database.NewDB(pool),
		checkMission: true,
		keys:         keys,
		idem:         idempotency.NewStore("trafficking.idempotency", "idempotency_pkey"),
		now:          time.Now,
	}
	cfg := consumerConfig()
	for _, o := range opts {
		o(s, &cfg)
	}
	s.consumer = outbox.NewConsumer(pool, cfg)
	s.cases = s.kind()
	return s
}

// consumerConfig is the configuration of the consumer of intake's events and of the hand-over
// service's acceptances (one consumer, one cursor): each drain's events together, and one at a
// time when a batch fails.
//
// consumerConfig, Register and Run are alike in every service that projects intake's cases:
// wiring of each service's own names, tables and handlers, with no logic to share.
func consumerConfig() outbox.ConsumerConfig {
	return outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "trafficking.outbox_cursor",
		Partitions:  outbox.IndexedPartitions,
		Types:       append(slices.Clone(intakecase.Events), handoverpart.Events...),
		Handle:      project,
		HandleBatch: projectBatch,
	}
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	traffickingv1.RegisterTraffickingServiceServer(g, s)
}

// Run is the service's background work: it applies intake's events to the victim cases, and the
// hand-over service's acceptances to the grants of their parts, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	return s.consumer.Run(ctx)
}

// missionFilter and clock are intake's too, to the word: two-line methods on each service's
// own fields, too small to share.
//
// missionFilter is the mission the server itself filters a case by id on: the caller's, or
// none when a test switched the check off (the database still declares the caller's).
func (s *Service) missionFilter(who auth.Claims) string {
	if !s.checkMission {
		return ""
	}
	return who.Mission
}

// clock returns now, at the microsecond precision Postgres keeps.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// Spec describes the trafficking service for bootstrap.Run.
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
