package referral

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// CreateInboundReferral records a partner's referral to a mission, RECEIVED. It is idempotent
// on the partner's reference: the first referral made with a reference is the answer to every
// later call with it. The partner's agreement must be in force.
func (s *Service) CreateInboundReferral(ctx context.Context, req *referralv1.CreateInboundReferralRequest) (*referralv1.CreateInboundReferralResponse, error) {
	who, scope, err := partnerOf(ctx)
	if err != nil {
		return nil, err
	}
	partnerID := uuid.MustParse(scope.partner)
	resp := &referralv1.CreateInboundReferralResponse{}
	create := func(tx pgx.Tx) error {
		if r, err := inboundByReference(ctx, tx, scope.partner, req.GetPartnerReference()); err == nil {
			resp.Referral = partnerView(r)
			return nil
		} else if !errors.Is(err, errReferralNotFound) {
			return err
		}
		p, err := getPartner(ctx, tx, partnerID, false)
		if err != nil {
			return err
		}
		if expiry := fromDate(p.GetAgreement().GetExpiryDate()); s.clock().After(expiry.Add(24*time.Hour - time.Nanosecond)) {
			return &AgreementExpiredError{PartnerID: p.PartnerId, Expiry: expiry.Format(time.DateOnly)}
		}
		now := s.timestamp()
		r := &referralv1.Referral{
			ReferralId: uuid.NewString(), Mission: req.GetMission(), Direction: inbound, PartnerId: p.PartnerId,
			PartnerCategory: p.Category, ServiceCategory: req.GetServiceCategory(), Reason: req.GetReason(),
			Status: received, Version: 1, PartnerReference: req.GetPartnerReference(),
			RespondBy: timestamppb.New(now.AsTime().Add(s.cfg.RespondWithin)), CreateTime: now, UpdateTime: now,
		}
		b := &pgx.Batch{}
		queueInsertReferral(b, r, actorOf(who))
		if err := queueMoved(b, moved{r: r, cause: causeOf(ctx), actor: actorOf(who)}); err != nil {
			return err
		}
		var st database.Statement
		audit.Add(&st, []audit.Entry{audit.For(ctx, who, r.Mission, uuid.MustParse(r.ReferralId))})
		st.Queue(b)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		resp.Referral = partnerView(r)
		return nil
	}
	// Not mutation.Create: this creation is idempotent on the partner's reference, not on a
	// request id, and finds the first referral in its own transaction.
	err = s.db.PartnerTx(ctx, scope.partner, create)
	if database.IsUniqueViolation(err, "referral_inbound_reference") {
		// The same reference, sent twice at once: the first to commit is the referral.
		err = s.db.PartnerTx(ctx, scope.partner, create)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

func inboundByReference(ctx context.Context, q database.Querier, partner, reference string) (*referralv1.Referral, error) {
	return scanReferral(q.QueryRow(ctx, `SELECT `+referralColumns+` FROM referral.referral
WHERE partner_id = $1 AND partner_reference = $2 AND direction = 'INBOUND'`, partner, reference))
}

// receiverCheck refuses an answer from the wrong side: the partner answers outbound
// referrals, the mission's staff inbound ones.
func receiverCheck(scope callerScope, r *referralv1.Referral, to referralv1.ReferralStatus) error {
	partnerReceives := r.Direction == outbound
	if (scope.partner != "") != partnerReceives {
		return transitionError(r.Status, to, "only the receiver of a referral answers it")
	}
	return nil
}

// referralResponse is a response that carries the referral it changed.
type referralResponse interface {
	proto.Message
	GetReferral() *referralv1.Referral
}

// answer is the shared path of AcceptReferral, DeclineReferral and CompleteReferral: the
// receiver moves the referral to status to, and apply sets what the answer says.
func (s *Service) answer(ctx context.Context, req proto.Message, requestID, method, referralID string, version int64,
	resp referralResponse, set func(*referralv1.Referral), to referralv1.ReferralStatus, apply func(*referralv1.Referral),
) error {
	who, scope, err := callerOf(ctx)
	if err != nil {
		return err
	}
	key, err := idempotency.NewKey(s.keys, scope.key(), requestID, method, req)
	if err != nil {
		return toStatus(err)
	}
	err = s.mutate(ctx, who, key, referralID, version, resp, set, func(_ pgx.Tx, r *referralv1.Referral) error {
		if err := receiverCheck(scope, r, to); err != nil {
			return err
		}
		if err := checkTransition(r.Status, to); err != nil {
			return err
		}
		r.Status = to
		apply(r)
		return nil
	})
	return toStatus(err)
}

// AcceptReferral accepts a referral, by its receiver.
func (s *Service) AcceptReferral(ctx context.Context, req *referralv1.AcceptReferralRequest) (*referralv1.AcceptReferralResponse, error) {
	resp := &referralv1.AcceptReferralResponse{}
	err := s.answer(ctx, req, req.GetRequestId(), referralv1.ReferralService_AcceptReferral_FullMethodName, req.GetReferralId(),
		req.GetVersion(), resp, func(r *referralv1.Referral) { resp.Referral = r }, accepted, func(r *referralv1.Referral) {
			if ref := req.GetPartnerReference(); ref != "" && r.Direction == outbound {
				r.PartnerReference = ref
			}
			r.RespondBy = nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// DeclineReferral declines a referral with a coded reason, by its receiver.
func (s *Service) DeclineReferral(ctx context.Context, req *referralv1.DeclineReferralRequest) (*referralv1.DeclineReferralResponse, error) {
	resp := &referralv1.DeclineReferralResponse{}
	ctx = audit.WithReason(ctx, enumcode.Code(req.GetReason()))
	err := s.answer(ctx, req, req.GetRequestId(), referralv1.ReferralService_DeclineReferral_FullMethodName, req.GetReferralId(),
		req.GetVersion(), resp, func(r *referralv1.Referral) { resp.Referral = r }, declined, func(r *referralv1.Referral) {
			r.DeclineReason, r.RespondBy = req.GetReason(), nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// CompleteReferral closes an accepted referral with its outcome, by its receiver.
func (s *Service) CompleteReferral(ctx context.Context, req *referralv1.CompleteReferralRequest) (*referralv1.CompleteReferralResponse, error) {
	resp := &referralv1.CompleteReferralResponse{}
	ctx = audit.WithReason(ctx, enumcode.Code(req.GetOutcome()))
	err := s.answer(ctx, req, req.GetRequestId(), referralv1.ReferralService_CompleteReferral_FullMethodName, req.GetReferralId(),
		req.GetVersion(), resp, func(r *referralv1.Referral) { resp.Referral = r }, completed, func(r *referralv1.Referral) {
			r.Outcome = req.GetOutcome()
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
