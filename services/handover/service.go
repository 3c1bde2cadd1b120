package handover

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.handover.v1.HandoverService"

// Role is the database role the service connects with.
const Role = "passage_handover"

// producer names the service in the outbox and its consumer's cursor.
const producer = "handover"

// Policy lists who may call each RPC. Field staff of a mission propose, answer and complete
// its hand-overs (which side may make which move, the transition table decides); HQ
// (programme managers, administrators) publishes the data profiles, which staff read too.
// Analysts and partners call nothing: a hand-over is about a person.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	hq := []auth.Role{auth.RoleProgrammeManager, auth.RoleAdmin}
	staff := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor, auth.RoleProgrammeManager, auth.RoleAdmin}
	return auth.Policy{
		handoverv1.HandoverService_PublishHandoverProfile_FullMethodName: hq,
		handoverv1.HandoverService_ListHandoverProfiles_FullMethodName:   staff,
		handoverv1.HandoverService_ProposeHandover_FullMethodName:        field,
		handoverv1.HandoverService_WithdrawHandover_FullMethodName:       field,
		handoverv1.HandoverService_AcceptHandover_FullMethodName:         field,
		handoverv1.HandoverService_DeclineHandover_FullMethodName:        field,
		handoverv1.HandoverService_CompleteHandover_FullMethodName:       field,
		handoverv1.HandoverService_GetHandover_FullMethodName:            field,
		handoverv1.HandoverService_ListHandovers_FullMethodName:          field,
	}
}

// Service implements handoverv1.HandoverServiceServer.
type Service struct {
	handoverv1.UnimplementedHandoverServiceServer

	db       *database.DB
	keys     *vault.Keyring
	idem     *idempotency.Store
	consumer *outbox.Consumer
	now      func() time.Time
	// catchUpWait bounds how long a proposal waits for intake's events about its case.
	catchUpWait time.Duration
	// handovers runs every move of an existing hand-over (mutate).
	handovers mutation.Kind[*locked]
	// creator writes new hand-overs and profiles.
	creator mutation.Creator
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that decides "now" (tests use a fixed one).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// catchUpWait is how long, by default, a proposal waits for intake's events to become readable
// when it names a case the projection has not seen yet (see outbox.Consumer.CatchUp).
const catchUpWait = 3 * time.Second

// New returns the service over a pool connected as Role. keys only fingerprints requests for
// idempotency: the service never opens the vault.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:          database.NewDB(pool),
		keys:        keys,
		idem:        idempotency.NewStore("handover.idempotency", "idempotency_pkey"),
		now:         time.Now,
		catchUpWait: catchUpWait,
	}
	s.consumer = outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "handover.outbox_cursor",
		Partitions:  outbox.IndexedPartitions,
		Types:       intakecase.Events,
		Handle:      applyIntakeEvent,
		HandleBatch: applyIntakeEvents,
	})
	for _, o := range opts {
		o(s)
	}
	s.handovers = s.kind()
	s.creator = mutation.Creator{DB: s.db, Idem: s.idem, Producer: producer}
	return s
}

// Register registers the service on g.
//
// Register, Run and Spec are alike in every service that projects intake's cases: wiring of
// each service's own names, tables and handlers, with no logic to share.
func (s *Service) Register(g *grpc.Server) {
	handoverv1.RegisterHandoverServiceServer(g, s)
}

// Run keeps the projection of intake's cases up to date until ctx ends: the service's
// background work.
func (s *Service) Run(ctx context.Context) error {
	return s.consumer.Run(ctx)
}

// Spec describes the service for bootstrap.Run; its background work is the intake consumer.
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

// clock returns now at the microsecond precision Postgres keeps.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// locked is a hand-over as a move finds it, locked, and the mission of the caller who moves
// it: the change is audited, and its event recorded, in that mission's chain and outbox.
type locked struct {
	h       *handoverv1.Handover
	mission string
}

// kind describes a hand-over to mutation.Run. Either of its missions may lock it (row-level
// security shows it to both); the transition table then decides whether the move is theirs.
func (s *Service) kind() mutation.Kind[*locked] {
	return mutation.Kind[*locked]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: func(ref string) (uuid.UUID, error) { return rpcerr.ParseID("handover_id", ref) },
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*locked, error) {
			h, err := getHandover(ctx, tx, id, true)
			if err != nil {
				return nil, err
			}
			return &locked{h: h, mission: who.Mission}, nil
		},
		Version: func(l *locked) int64 { return l.h.Version },
		Mission: func(l *locked) string { return l.mission },
		// A hand-over's events are filed under its case: the programme services look for a
		// case's unapplied acceptance as they look for its consent changes (handoverpart.CatchUp).
		About: func(l *locked) uuid.UUID { return uuid.MustParse(l.h.CaseId) },
		Stale: func(_ string, l *locked) error { return staleVersion(l.h.HandoverId, l.h.Version) },
		Save: func(l *locked, st *mutation.Step) {
			l.h.Version, l.h.UpdateTime = st.Version, timestamppb.New(st.Now)
			queueUpdateHandover(st.Batch, l.h)
		},
	}
}
