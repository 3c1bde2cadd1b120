package analytics

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/region"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
	"github.com/passage-cm/passage/services/analytics/projector"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.analytics.v1.AnalyticsService"

// Role is the database role the service answers calls with: it reads the anonymised tables
// only. ProjectorRole is the role of its background work, which reads the outbox.
const (
	Role          = "passage_analytics"
	ProjectorRole = projector.Role
)

// Policy lists who may call each RPC: HQ's analysts and programme managers, whose work is
// aggregate statistics (issue 4's roles). Administrators keep keys, users and funds, not
// statistics; field staff and partners see cases, never HQ's aggregates. The handlers also
// require the HQ mission.
func Policy() auth.Policy {
	hq := []auth.Role{auth.RoleAnalyst, auth.RoleProgrammeManager}
	return auth.Policy{
		analyticsv1.AnalyticsService_Aggregate_FullMethodName:           hq,
		analyticsv1.AnalyticsService_ListRegions_FullMethodName:         hq,
		analyticsv1.AnalyticsService_ExportAggregate_FullMethodName:     hq,
		analyticsv1.AnalyticsService_ExportVictimRecords_FullMethodName: hq,
		analyticsv1.AnalyticsService_GetPrivacyBudget_FullMethodName:    hq,
	}
}

// errorDomain is the ErrorInfo domain of the service's errors.
const errorDomain = "passage.analytics.v1"

// refreshInterval is how often the in-memory rollup picks up the projector's changes.
const refreshInterval = 250 * time.Millisecond

// Service implements analyticsv1.AnalyticsServiceServer.
type Service struct {
	analyticsv1.UnimplementedAnalyticsServiceServer

	reads     *database.DB // the rollup and the victim records: the replica's pool when set
	cube      *cube.Cube
	loader    *Loader
	projector *outbox.Consumer
	ledger    *privacy.Ledger
	releases  releases
	budget    float64
	logger    *slog.Logger
	now       func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that decides "this year" and dates releases and refreshes (tests
// use a fixed one).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithPrivacyBudget sets the ε each consumer may spend a year on differentially private
// releases (privacy.DefaultYearlyEpsilon unless set).
func WithPrivacyBudget(epsilon float64) Option {
	return func(s *Service) { s.budget = epsilon }
}

// WithReplica sends the service's read-only queries (the rollup's refresh and the victim
// records) to pool, connected as Role to a hot standby; what writes (the privacy ledger's
// spends and their audit records) stays on the primary's pool given to New.
func WithReplica(pool *pgxpool.Pool) Option {
	return func(s *Service) { s.reads = database.NewDB(pool) }
}

// WithLogger sets the logger (method and measure of each call; never a count).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.logger = l }
}

// New returns the service: queries through pool (connected as Role) unless WithReplica
// sends the reads elsewhere, the projector through projectorPool (connected as
// ProjectorRole).
func New(pool, projectorPool *pgxpool.Pool, opts ...Option) *Service {
	db := database.NewDB(pool)
	s := &Service{
		reads:     db,
		cube:      cube.New(region.CodeOf),
		projector: projector.New(projectorPool),
		logger:    slog.Default(),
		budget:    privacy.DefaultYearlyEpsilon,
		now:       time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	s.loader = NewLoader(s.reads, s.cube)
	s.loader.now = s.now
	s.ledger = privacy.NewLedger(db, s.budget)
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	analyticsv1.RegisterAnalyticsServiceServer(g, s)
}

// Run projects the outbox events, refreshes the in-memory rollup and keeps the protected
// releases current until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	runs := []func(context.Context) error{
		s.projector.Run,
		func(ctx context.Context) error { return s.loader.Run(ctx, refreshInterval, s.logger) },
		func(ctx context.Context) error { return s.keepReleases(ctx, refreshInterval) },
	}
	errs := make(chan error, len(runs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, run := range runs {
		go func() { errs <- run(ctx) }()
	}
	err := <-errs
	cancel()
	for range len(runs) - 1 {
		if err2 := <-errs; err == nil {
			err = err2
		}
	}
	return err
}

// Spec describes the service for bootstrap.Run.
func Spec() bootstrap.Service {
	return bootstrap.Service{
		Name:       Name,
		Short:      "analytics",
		Role:       Role,
		WorkerRole: ProjectorRole,
		// The cube's refresh and the victim records may come from a hot standby: answers
		// carry the time their data is as of, and the loader's horizon holds there (loader.go).
		ReplicaReads: true,
		Policy:       Policy(),
		Register: func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
			opts := []Option{WithPrivacyBudget(d.PrivacyYearlyEpsilon), WithClock(d.Clock)}
			if d.ReplicaPool != nil && d.ReplicaPool != d.Pool {
				opts = append(opts, WithReplica(d.ReplicaPool))
			}
			if d.Logger != nil {
				opts = append(opts, WithLogger(d.Logger))
			}
			s := New(d.Pool, d.WorkerPool, opts...)
			s.Register(g)
			return s.Run
		},
	}
}
