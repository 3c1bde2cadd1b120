package followup

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/vault"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.followup.v1.FollowUpService"

// Role is the database role followup connects with.
const Role = "passage_followup"

// producer names followup in the outbox and is its consumer's name.
const producer = "followup"

// Policy lists who may call each RPC. Field staff list and close follow-ups; assigning them
// and changing the mission's schedule are a supervisor's.
func Policy() auth.Policy {
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	return auth.Policy{
		followupv1.FollowUpService_ListFollowUps_FullMethodName:  field,
		followupv1.FollowUpService_GetFollowUp_FullMethodName:    field,
		followupv1.FollowUpService_CloseFollowUp_FullMethodName:  field,
		followupv1.FollowUpService_AssignFollowUp_FullMethodName: {auth.RoleSupervisor},
		followupv1.FollowUpService_GetSchedule_FullMethodName:    field,
		followupv1.FollowUpService_SetSchedule_FullMethodName:    {auth.RoleSupervisor},
	}
}

// Service implements followupv1.FollowUpServiceServer.
type Service struct {
	followupv1.UnimplementedFollowUpServiceServer

	db       *database.DB
	keys     *vault.Keyring
	idem     *idempotency.Store
	consumer *outbox.Consumer
	now      func() time.Time
	// reminderEvery is how often the reminder job looks for follow-ups newly due or overdue.
	reminderEvery time.Duration
	// followUps and schedules run every change (mutate.go).
	followUps mutation.Kind[*followupv1.FollowUp]
	schedules mutation.Kind[*schedule]
}

// Option configures a Service. Option, WithClock and New are alike in shape in every service,
// each over its own Service.
type Option func(*Service)

// WithClock sets the clock that decides "today" (tests use one they move).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithReminderInterval sets how often the reminder job runs (a minute by default).
func WithReminderInterval(d time.Duration) Option {
	return func(s *Service) { s.reminderEvery = d }
}

// New returns the service over a pool connected as Role. keys only fingerprints requests for
// idempotency: followup never opens the vault.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:            database.NewDB(pool),
		keys:          keys,
		idem:          idempotency.NewStore("followup.idempotency", "idempotency_pkey"),
		now:           time.Now,
		reminderEvery: time.Minute,
	}
	for _, o := range opts {
		o(s)
	}
	s.consumer = outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "followup.outbox_cursor",
		// Partitioned: a case's events (programme steps, assignments, hand-overs) are filed
		// under the case, and its handlers read only that case's state; a leaver's event,
		// filed under the staff member, reads follow-ups its RPCs wrote, not a projection.
		Partitions: outbox.IndexedPartitions,
		Types:      consumed,
		Handle:     s.apply,
	})
	s.followUps = s.followUpKind()
	s.schedules = s.scheduleKind()
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	followupv1.RegisterFollowUpServiceServer(g, s)
}

// Run keeps the follow-ups in step with the programmes' events and writes the reminders
// until ctx ends: the service's background work. It returns the first error of either.
func (s *Service) Run(ctx context.Context) error {
	return bootstrap.RunAll(ctx, s.consumer.Run, s.runReminders)
}

// clock returns now at the microsecond precision Postgres keeps.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// today is the server's date (UTC), which decides what is due and overdue.
func (s *Service) today() time.Time { return civildate.Day(s.clock()) }

// Spec describes followup for bootstrap.Run.
func Spec() bootstrap.Service {
	return SpecWith()
}

// SpecWith is Spec with options (tests set the clock and the reminder interval).
func SpecWith(opts ...Option) bootstrap.Service {
	return bootstrap.Service{
		Name:   Name,
		Short:  producer,
		Role:   Role,
		Policy: Policy(),
		Register: func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
			s := New(d.Pool, d.Keys, opts...)
			s.Register(g)
			return s.Run
		},
	}
}
