package intake

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// maxConsentRecords bounds a case's consent history, which every event about the case
// carries; a case that reaches it is a client gone wrong, not a person changing their mind.
const maxConsentRecords = 1000

// RecordConsent adds a consent record for a person of the case. It is a change to the case
// like any other (version, idempotency, event), so that the programme services learn of it
// through the outbox in order with the case's other changes.
func (s *Service) RecordConsent(ctx context.Context, req *intakev1.RecordConsentRequest) (*intakev1.RecordConsentResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var v rpcerr.Violations
	checkConsent(&v, "consent", req.GetConsent(), civildate.Day(s.clock()))
	if req.GetConsent().GetSubjectId() == "" {
		v.Add("consent.subject_id", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_RecordConsent_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.RecordConsentResponse{}
	err = s.mutate(ctx, who, key, req.GetCaseId(), req.GetVersion(), resp, func(_ pgx.Tx, c *intakev1.Case, b *pgx.Batch) (proto.Message, error) {
		if !isPerson(c, req.GetConsent().GetSubjectId()) {
			var v rpcerr.Violations
			v.Add("consent.subject_id", "is not a person of the case")
			return nil, v.Err()
		}
		if len(c.Consents) >= maxConsentRecords {
			return nil, status.Errorf(codes.ResourceExhausted, "consent: a case holds at most %d consent records", maxConsentRecords)
		}
		x := newRecord(req.GetConsent(), who.Subject)
		queueInsertConsent(b, c.Mission, c.CaseId, len(c.Consents), x)
		c.Consents = append(c.Consents, x)
		consent.Derive(c.Consents)
		consent.Mark(c)
		resp.Case, resp.Consent = c, x
		return &intakev1.ConsentRecorded{Case: c, Consent: x}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// WithdrawConsent records the withdrawal of a consent record in force. The record stays; the
// withdrawal is a fact of its own, and the purpose is no longer allowed for the person.
func (s *Service) WithdrawConsent(ctx context.Context, req *intakev1.WithdrawConsentRequest) (*intakev1.WithdrawConsentResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	today := civildate.Day(s.clock())
	var v rpcerr.Violations
	err = civildate.CheckFull(req.GetDate())
	if err == nil {
		err = civildate.NotAfter(req.GetDate(), today)
	}
	checkDate(&v, "date", err)
	consentID, perr := uuid.Parse(req.GetConsentId())
	if perr != nil {
		v.Add("consent_id", "must be a valid UUID")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_WithdrawConsent_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.WithdrawConsentResponse{}
	err = s.mutate(ctx, who, key, req.GetCaseId(), req.GetVersion(), resp, func(_ pgx.Tx, c *intakev1.Case, b *pgx.Batch) (proto.Message, error) {
		var x *commonv1.Consent
		for _, r := range c.Consents {
			if r.ConsentId == consentID.String() {
				x = r
			}
		}
		switch {
		case x == nil:
			return nil, status.Error(codes.NotFound, "consent_id: the case has no such consent record")
		case !x.InForce:
			const msg = "only a consent record in force can be withdrawn"
			return nil, rpcerr.FailedPrecondition(errorDomain, "CONSENT_NOT_IN_FORCE", msg,
				map[string]string{"purpose": consent.Code(x.Purpose)}, rpcerr.Violation("CONSENT", consent.Code(x.Purpose), msg))
		case civildate.ToTime(req.GetDate()).Before(civildate.ToTime(x.Date)):
			var v rpcerr.Violations
			v.Add("date", "must not be before the day the consent was recorded for")
			return nil, v.Err()
		}
		x.Withdrawal = &commonv1.ConsentWithdrawal{Date: req.GetDate(), RecordedBy: who.Subject}
		queueInsertWithdrawal(b, c.Mission, c.CaseId, x, s.clock())
		consent.Derive(c.Consents)
		consent.Mark(c)
		resp.Case, resp.Consent = c, x
		return &intakev1.ConsentWithdrawn{Case: c, Consent: x}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// isPerson reports whether subject is one of the case's people.
func isPerson(c *intakev1.Case, subject string) bool {
	for _, m := range append([]*intakev1.CaseMember{c.Principal}, c.HouseholdMembers...) {
		if m.GetSubjectId() == subject {
			return true
		}
	}
	return false
}

// requireActiveAssistance refuses to make a case ACTIVE (assistance under way) unless its
// principal applicant's assistance is allowed.
func requireActiveAssistance(c *intakev1.Case, to intakev1.CaseStatus) error {
	if to == intakev1.CaseStatus_CASE_STATUS_ACTIVE && !consent.AssistanceAllowed(c) {
		return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
	}
	return nil
}
