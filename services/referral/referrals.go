package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// sharingConsent returns the principal's DATA_SHARING consent record in force for the partner
// (named by its code) or for its category, as intake derived it; nil when there is none.
func sharingConsent(c *intakev1.Case, p *referralv1.Partner) *commonv1.Consent {
	for _, r := range c.GetConsents() {
		if !r.GetInForce() || r.GetSubjectId() != c.GetSubjectId() ||
			r.GetPurpose() != commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			continue
		}
		if (r.GetPartner() != "" && r.GetPartner() == p.GetCode()) ||
			(r.GetPartnerCategory() != 0 && r.GetPartnerCategory() == p.GetCategory()) {
			return r
		}
	}
	return nil
}

// offers reports whether a partner offers a service category.
func offers(p *referralv1.Partner, c referralv1.ServiceCategory) bool {
	for _, s := range p.GetServices() {
		for _, x := range s.GetCategories() {
			if x == c {
				return true
			}
		}
	}
	return false
}

// CreateReferral drafts an outbound referral of a case of the caller's mission. The
// principal's DATA_SHARING consent for the partner or its category must be in force; without
// it the call is FAILED_PRECONDITION naming the consent, unless a supervisor records an
// override with a coded reason (kept on the referral and in the audit trail).
func (s *Service) CreateReferral(ctx context.Context, req *referralv1.CreateReferralRequest) (*referralv1.CreateReferralResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	caseID, err := rpcerr.ParseID("case_id", req.GetCaseId())
	if err != nil {
		return nil, err
	}
	partnerID, err := rpcerr.ParseID("partner_id", req.GetPartnerId())
	if err != nil {
		return nil, err
	}
	override := req.GetConsentOverride()
	if override != nil && who.Role != auth.RoleSupervisor {
		return nil, status.Error(codes.PermissionDenied, "only a supervisor may refer without consent")
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_CreateReferral_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.CreateReferralResponse{}
	if replayed, err := s.idem.Replay(ctx, s.db.Mission(who.Mission), key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}
	c, err := s.caseFor(ctx, who.Mission, caseID)
	if err != nil {
		return nil, toStatus(err)
	}
	p, err := getPartner(ctx, s.db.Mission(who.Mission), partnerID, false)
	if err != nil {
		return nil, toStatus(err)
	}
	if !offers(p, req.GetServiceCategory()) {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("service_category", "the partner does not offer this service category"))
	}
	now := s.timestamp()
	r := &referralv1.Referral{
		ReferralId: uuid.NewString(), Mission: who.Mission, Direction: outbound, CaseId: caseID.String(),
		SubjectId: c.GetSubjectId(), PartnerId: p.PartnerId, PartnerCategory: p.Category,
		ServiceCategory: req.GetServiceCategory(), Reason: req.GetReason(), Status: draft, Version: 1,
		CreateTime: now, UpdateTime: now,
	}
	if cons := sharingConsent(c, p); cons != nil {
		if override != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("consent_override", "must be unset: the person's consent is in force"))
		}
		r.ConsentId = cons.GetConsentId()
	} else if override != nil {
		r.ConsentOverride = &referralv1.ConsentOverride{Reason: override.GetReason(), RecordedBy: who.Subject}
		ctx = audit.WithReason(ctx, enumcode.Code(override.GetReason()))
	} else {
		return nil, toStatus(&missingSharingConsent{partnerCode: p.Code, partnerCategory: partnerCategoryCode(p.Category)})
	}
	resp.Referral = r
	n := mutation.New{Who: who, Key: key, ID: uuid.MustParse(r.ReferralId), Mission: r.Mission, Resp: resp}
	err = s.creator.Create(ctx, n, func(b *pgx.Batch) (proto.Message, error) {
		queueInsertReferral(b, r, who.Subject)
		return queueMovedRecords(b, moved{r: r, cause: causeOf(ctx), actor: actorOf(who)})
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// SendReferral sends a draft to its partner: the consent is checked again (a withdrawal since
// the draft refuses the send), the partner's agreement must be in force today, and the
// category's current data profile is fixed on the referral.
func (s *Service) SendReferral(ctx context.Context, req *referralv1.SendReferralRequest) (*referralv1.SendReferralResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_SendReferral_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.SendReferralResponse{}
	if err := s.catchUpReferralConsent(ctx, who.Mission, req.GetReferralId()); err != nil {
		return nil, toStatus(err)
	}
	err = s.mutate(ctx, who, key, req.GetReferralId(), req.GetVersion(), resp,
		func(r *referralv1.Referral) { resp.Referral = r },
		func(tx pgx.Tx, r *referralv1.Referral) error {
			if err := checkTransition(r.Status, sent); err != nil {
				return err
			}
			p, err := getPartner(ctx, tx, uuid.MustParse(r.PartnerId), false)
			if err != nil {
				return err
			}
			today := s.clock()
			if expiry := fromDate(p.GetAgreement().GetExpiryDate()); today.After(expiry.Add(24*time.Hour - time.Nanosecond)) {
				return &AgreementExpiredError{PartnerID: p.PartnerId, Expiry: expiry.Format(time.DateOnly)}
			}
			if r.ConsentOverride == nil {
				c, err := getCase(ctx, tx, r.Mission, uuid.MustParse(r.CaseId))
				if err != nil {
					return err
				}
				cons := sharingConsent(c, p)
				if cons == nil {
					return &missingSharingConsent{partnerCode: p.Code, partnerCategory: partnerCategoryCode(p.Category)}
				}
				r.ConsentId = cons.GetConsentId()
			}
			profile, err := latestProfile(ctx, tx, r.ServiceCategory)
			if err != nil {
				return err
			}
			r.ProfileVersion = profile.Version
			r.Status = sent
			r.RespondBy = timestamppb.New(today.Add(s.cfg.RespondWithin))
			return nil
		})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// RevokeReferral withdraws an outbound referral, by its sender, before it is final. The
// partner's access to the data ends with the transaction (see dataOpen and the vault policy).
func (s *Service) RevokeReferral(ctx context.Context, req *referralv1.RevokeReferralRequest) (*referralv1.RevokeReferralResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_RevokeReferral_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.RevokeReferralResponse{}
	ctx = audit.WithReason(ctx, enumcode.Code(req.GetReason()))
	err = s.mutate(ctx, who, key, req.GetReferralId(), req.GetVersion(), resp,
		func(r *referralv1.Referral) { resp.Referral = r },
		func(_ pgx.Tx, r *referralv1.Referral) error {
			if r.Direction != outbound {
				return transitionError(r.Status, revoked, "only the sender revokes a referral: this one was sent by the partner")
			}
			if err := checkTransition(r.Status, revoked); err != nil {
				return err
			}
			r.Status, r.RevokeReason = revoked, req.GetReason()
			return nil
		})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// GetReferral reads one referral: staff their mission's, a partner its own.
func (s *Service) GetReferral(ctx context.Context, req *referralv1.GetReferralRequest) (*referralv1.GetReferralResponse, error) {
	_, scope, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rpcerr.ParseID("referral_id", req.GetReferralId())
	if err != nil {
		return nil, err
	}
	r, err := getReferral(ctx, s.querier(scope), scope, id, false)
	if err != nil {
		return nil, toStatus(err)
	}
	if scope.partner != "" {
		r = partnerView(r)
	}
	return &referralv1.GetReferralResponse{Referral: r}, nil
}

// ListReferrals lists referrals newest first: staff their mission's, a partner its own; a
// partner never sees a draft.
func (s *Service) ListReferrals(ctx context.Context, req *referralv1.ListReferralsRequest) (*referralv1.ListReferralsResponse, error) {
	_, scope, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetCaseId() != "" {
		// Cases are the mission's: a partner knows referrals, never case ids; staff asking for
		// a case they cannot see get NOT_FOUND, as for the case itself.
		if scope.partner != "" {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("case_id", "must be empty for a partner"))
		}
		id, err := rpcerr.ParseID("case_id", req.GetCaseId())
		if err != nil {
			return nil, err
		}
		if _, err := s.caseFor(ctx, scope.mission, id); err != nil {
			return nil, toStatus(err)
		}
	}
	size := pagetoken.Size(req.GetPageSize())
	filter := pagetoken.Filter(scope.key() + "|" + statusCode(req.GetStatus()) + "|" +
		enumcode.Code(req.GetDirection()) + "|" + req.GetCaseId())
	cursor := pagetoken.Cursor{Time: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.Max}
	if tok := req.GetPageToken(); tok != "" {
		c, err := pagetoken.Decode(tok, filter)
		if err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
		cursor = *c
	}
	var st, dir, caseID *string
	if req.GetStatus() != 0 {
		v := statusCode(req.GetStatus())
		st = &v
	}
	if req.GetDirection() != 0 {
		v := enumcode.Code(req.GetDirection())
		dir = &v
	}
	if req.GetCaseId() != "" {
		caseID = &req.CaseId
	}
	owner, arg := "mission = $1", any(scope.mission)
	if scope.partner != "" {
		owner, arg = "partner_id = $1 AND status <> 'DRAFT'", scope.partner
	}
	rows, err := s.querier(scope).Query(ctx, `SELECT `+referralColumns+` FROM referral.referral
WHERE `+owner+` AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR direction = $3)
  AND ($4::uuid IS NULL OR case_id = $4) AND (created_at, referral_id) < ($5, $6)
ORDER BY created_at DESC, referral_id DESC LIMIT $7`, arg, st, dir, caseID, cursor.Time, cursor.ID, size+1)
	if err != nil {
		return nil, fmt.Errorf("list referrals: %w", err)
	}
	defer rows.Close()
	resp := &referralv1.ListReferralsResponse{}
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, err
		}
		if scope.partner != "" {
			r = partnerView(r)
		}
		resp.Referrals = append(resp.Referrals, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list referrals: %w", err)
	}
	if len(resp.Referrals) > size {
		resp.Referrals = resp.Referrals[:size]
		last := resp.Referrals[size-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{Time: last.CreateTime.AsTime(), ID: uuid.MustParse(last.ReferralId)}, filter)
	}
	return resp, nil
}

// catchUpReferralConsent applies any consent change intake committed for the referral's case
// before the service acts on it, so that a withdrawal takes effect at once. A referral of
// another mission, or none, is left to the mutation to report as not found.
func (s *Service) catchUpReferralConsent(ctx context.Context, mission, referralID string) error {
	id, err := uuid.Parse(referralID)
	if err != nil {
		return nil
	}
	var caseID *uuid.UUID
	err = s.db.Mission(mission).QueryRow(ctx, `SELECT case_id FROM referral.referral WHERE referral_id = $1 AND mission = $2`,
		id, mission).Scan(&caseID)
	if errors.Is(err, pgx.ErrNoRows) || caseID == nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read referral's case: %w", err)
	}
	return s.catchUpConsent(ctx, *caseID)
}
