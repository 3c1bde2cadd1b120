package referral

import (
	"context"
	"time"

	"github.com/google/uuid"
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
	"github.com/passage-cm/passage/internal/vault"
	"github.com/passage-cm/passage/internal/webhook"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// Name is the service's name for health checks and telemetry.
const Name = "passage.referral.v1.ReferralService"

// Role is the database role the service connects with.
const Role = "passage_referral"

// producer names the service in the outbox and its consumer's cursor.
const producer = "referral"

// Policy lists who may call each RPC. HQ (programme managers, administrators) keeps the
// partner registry and the data profiles; field staff refer their mission's cases and answer
// inbound referrals; supervisors alone may refer without consent (an override the handler
// checks); partners read and answer what was referred to them, send inbound referrals and read
// their feed. Analysts call nothing: referrals are about a person.
func Policy() auth.Policy {
	hq := []auth.Role{auth.RoleProgrammeManager, auth.RoleAdmin}
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	staffAndPartner := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor, auth.RolePartner}
	everyoneButAnalysts := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor, auth.RoleProgrammeManager,
		auth.RoleAdmin, auth.RolePartner}
	return auth.Policy{
		referralv1.ReferralService_RegisterPartner_FullMethodName:       hq,
		referralv1.ReferralService_GetPartner_FullMethodName:            everyoneButAnalysts,
		referralv1.ReferralService_ListPartners_FullMethodName:          {auth.RoleCaseworker, auth.RoleSupervisor, auth.RoleProgrammeManager, auth.RoleAdmin},
		referralv1.ReferralService_UpdatePartner_FullMethodName:         hq,
		referralv1.ReferralService_PublishDataProfile_FullMethodName:    hq,
		referralv1.ReferralService_ListDataProfiles_FullMethodName:      everyoneButAnalysts,
		referralv1.ReferralService_CreateReferral_FullMethodName:        field,
		referralv1.ReferralService_SendReferral_FullMethodName:          field,
		referralv1.ReferralService_GetReferral_FullMethodName:           staffAndPartner,
		referralv1.ReferralService_ListReferrals_FullMethodName:         staffAndPartner,
		referralv1.ReferralService_RevokeReferral_FullMethodName:        field,
		referralv1.ReferralService_CreateInboundReferral_FullMethodName: {auth.RolePartner},
		referralv1.ReferralService_AcceptReferral_FullMethodName:        staffAndPartner,
		referralv1.ReferralService_DeclineReferral_FullMethodName:       staffAndPartner,
		referralv1.ReferralService_CompleteReferral_FullMethodName:      staffAndPartner,
		referralv1.ReferralService_LinkReferralCase_FullMethodName:      field,
		referralv1.ReferralService_GetReferralData_FullMethodName:       {auth.RolePartner},
		referralv1.ReferralService_ListReferralEvents_FullMethodName:    {auth.RolePartner},
	}
}

// Config tunes the service's rules and background work.
type Config struct {
	// RespondWithin is how long a partner has to answer a sent referral before it expires.
	RespondWithin time.Duration
	// ExpiryInterval is how often the expiry job looks for unanswered referrals.
	ExpiryInterval time.Duration
	// Webhook configures the worker that delivers events to webhook partners.
	Webhook webhook.WorkerConfig
}

// DefaultConfig is what `passage serve` runs with.
func DefaultConfig() Config {
	return Config{RespondWithin: 14 * 24 * time.Hour, ExpiryInterval: time.Minute}
}

// Service implements referralv1.ReferralServiceServer.
type Service struct {
	referralv1.UnimplementedReferralServiceServer

	db   *database.DB
	keys *vault.Keyring
	idem *idempotency.Store
	// referrals runs every change of an existing referral (mutate, LinkReferralCase).
	referrals mutation.Kind[*referralv1.Referral]
	// partners runs UpdatePartner.
	partners mutation.Kind[*partnerEdit]
	// creator writes new partners and referrals.
	creator  mutation.Creator
	consumer *outbox.Consumer
	cfg      Config
	now      func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that decides "now" (tests move it past deadlines).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithConfig replaces DefaultConfig.
func WithConfig(c Config) Option {
	return func(s *Service) { s.cfg = c }
}

// New returns the service over a pool connected as Role. The keyring fingerprints requests,
// seals partners' signing secrets and opens the identities a data profile shares.
func New(pool *pgxpool.Pool, keys *vault.Keyring, opts ...Option) *Service {
	s := &Service{
		db:   database.NewDB(pool),
		keys: keys,
		idem: idempotency.NewStore("referral.idempotency", "idempotency_pkey"),
		cfg:  DefaultConfig(),
		now:  time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	s.referrals, s.partners = s.kind(), s.partnerKind()
	s.creator = mutation.Creator{DB: s.db, Idem: s.idem, Producer: producer}
	def := DefaultConfig()
	if s.cfg.RespondWithin <= 0 {
		s.cfg.RespondWithin = def.RespondWithin
	}
	if s.cfg.ExpiryInterval <= 0 {
		s.cfg.ExpiryInterval = def.ExpiryInterval
	}
	s.consumer = outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name:        producer,
		CursorTable: "referral.outbox_cursor",
		Partitions:  outbox.IndexedPartitions,
		Types:       intakecase.Events,
		Handle:      s.applyIntakeEvent,
		HandleBatch: s.applyIntakeEvents,
	})
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) {
	referralv1.RegisterReferralServiceServer(g, s)
}

// Run is the service's background work until ctx ends: intake's events applied to the case
// projection (consent withdrawals withdraw referrals there), the expiry job, and the webhook
// worker delivering the queued events to webhook partners. The first to fail stops the others.
func (s *Service) Run(ctx context.Context) error {
	return bootstrap.RunAll(ctx, s.consumer.Run, s.runExpiry, webhook.NewWorker(s.db, s, s.cfg.Webhook).Run)
}

// Spec describes the service for bootstrap.Run.
func Spec() bootstrap.Service {
	return SpecWith()
}

// SpecWith is Spec with options (tests set the clock and the deadlines).
func SpecWith(opts ...Option) bootstrap.Service {
	return bootstrap.Service{
		Name:   Name,
		Short:  producer,
		Role:   Role,
		Policy: Policy(),
		Register: func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
			s := New(d.Pool, d.Keys, append([]Option{WithClock(d.Clock)}, opts...)...)
			if len(d.WebhookAllowNetworks) > 0 {
				// The deployment's development allowance (PASSAGE_WEBHOOK_ALLOW_NETWORKS), for the
				// registry's check and the worker's alike.
				s.cfg.Webhook.AllowNetworks = d.WebhookAllowNetworks
			}
			s.Register(g)
			return s.Run
		},
		Gateway: referralv1.RegisterReferralServiceHandler,
	}
}

// clock returns now at the microsecond precision Postgres keeps.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

func (s *Service) timestamp() *timestamppb.Timestamp {
	return timestamppb.New(s.clock())
}

// callerScope is whose rows a call works on: a mission's (staff) or a partner's.
type callerScope struct {
	mission string
	partner string
}

// callerOf is who calls and what they may see, the first question of every handler that
// serves staff and partners alike; its error is the call's status.
func callerOf(ctx context.Context) (auth.Claims, callerScope, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return who, callerScope{}, err
	}
	scope, err := scopeOf(who)
	if err != nil {
		return who, callerScope{}, toStatus(err)
	}
	return who, scope, nil
}

// partnerOf is callerOf for the calls only a partner makes: staff are refused.
func partnerOf(ctx context.Context) (auth.Claims, callerScope, error) {
	who, scope, err := callerOf(ctx)
	if err == nil && scope.partner == "" {
		err = toStatus(errNotPartner)
	}
	return who, scope, err
}

// scopeOf returns the caller's scope: a partner's token names its partner, or the call is
// refused; staff work on their mission.
func scopeOf(who auth.Claims) (callerScope, error) {
	if who.Role == auth.RolePartner {
		if _, err := uuid.Parse(who.Partner); err != nil {
			return callerScope{}, errNotPartner
		}
		return callerScope{partner: who.Partner}, nil
	}
	return callerScope{mission: who.Mission}, nil
}

// key is the idempotency scope: the mission, or the partner's id.
func (c callerScope) key() string {
	if c.partner != "" {
		return c.partner
	}
	return c.mission
}

// querier returns the database seen by the caller: its mission, or its partner.
func (s *Service) querier(c callerScope) database.Querier {
	if c.partner != "" {
		return s.db.Partner(c.partner)
	}
	return s.db.Mission(c.mission)
}
