package returns

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
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.returns.v1.ReturnService"

// Role is the database role returns connects with.
const Role = "passage_returns"

// producer names returns in the outbox and is its consumer's name.
const producer = "returns"

// Policy lists who may call each RPC. Field staff of the mission walk the return; reopening a
// closed return is a supervisor's decision.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	return auth.Policy{
		returnsv1.ReturnService_GetReturn_FullMethodName:              field,
		returnsv1.ReturnService_ListReturns_FullMethodName:            field,
		returnsv1.ReturnService_RecordEligibility_FullMethodName:      field,
		returnsv1.ReturnService_RecordPreDepartureStep_FullMethodName: field,
		returnsv1.ReturnService_RecordDeparture_FullMethodName:        field,
		returnsv1.ReturnService_RecordArrival_FullMethodName:          field,
		returnsv1.ReturnService_SetReintegrationPlan_FullMethodName:   field,
		returnsv1.ReturnService_RecordAssistance_FullMethodName:       field,
		returnsv1.ReturnService_RecordMonitoringVisit_FullMethodName:  field,
		returnsv1.ReturnService_CloseReturn_FullMethodName:            field,
		returnsv1.ReturnService_ReopenReturn_FullMethodName:           {auth.RoleSupervisor},
	}
}

// Service implements returnsv1.ReturnServiceServer.
type Service struct {
	returnsv1.UnimplementedReturnServiceServer

	db       *database.DB
	keys     *vault.Keyring
	idem     *idempotency.Store
	consumer *outbox.Consumer
	now      func() time.Time
	// catchUpWait bounds how long a request waits for intake's events (catchUpWait).
	catchUpWait time.Duration
	// returns runs every step on a return (mutate).
	returns mutation.Kind[*record]
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that decides "today" (tests use a fixed one).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithCatchUpWait sets how long a request waits for intake's events to become readable
// before it gives up (NOT_FOUND for an unknown case, UNAVAILABLE for a consent change).
func WithCatchUpWait(d time.Duration) Option {
	return func(s *Service) { s.catchUpWait = d }
}

// New returns the service over a pool connected as Role. keys only fingerprints requests for
// idempotency: returns never opens the vault.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:          database.NewDB(pool),
		keys:        keys,
		idem:        idempotency.NewStore("returns.idempotency", "idempotency_pkey"),
		now:         time.Now,
		catchUpWait: catchUpWait,
	}
	s.consumer = outbox.NewConsumer(pool, consumerConfig())
	for _, o := range opts {
		o(s)
	}
	s.returns = s.kind()
	return s
}

// consumerConfig is returns' consumer of intake's events and of the hand-over service's
// acceptances (one consumer, one cursor): each drain's events projected together, one at a
// time when that fails.
//
// consumerConfig, Register and Run are alike in every service that projects intake's cases:
// wiring of each service's own names, tables and handlers, with no logic to share.
func consumerConfig() outbox.ConsumerConfig {
	return outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "returns.outbox_cursor",
		Partitions:  outbox.IndexedPartitions,
		Types:       slices.Concat(intakecase.Events, handoverpart.Events),
		Handle:      applyEvent,
		HandleBatch: applyEvents,
	}
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	returnsv1.RegisterReturnServiceServer(g, s)
}

// Run keeps the projection of AVRR cases up to date with intake's events, and the grants of
// their parts with the hand-over service's, until ctx ends: the service's background work.
func (s *Service) Run(ctx context.Context) error {
	return s.consumer.Run(ctx)
}

// clock returns now at the microsecond precision Postgres keeps.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// Spec describes returns for bootstrap.Run; its background work is the intake consumer.
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
