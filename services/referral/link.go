package referral

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// LinkReferralCase links an inbound referral the mission accepted to the intake case of the
// person it refers: an existing case, or one the caseworker just opened through intake's
// RegisterCase (the referral service never writes intake's tables; it reads the case from
// its projection of intake's events, catching up first, so a case registered a moment ago
// is found). The case must be the mission's: another mission's is NOT_FOUND, and
// migration 000019 holds the same rule in the database. A link is not a transition: the
// referral's status stays, its partner hears nothing and gains no access to the case; the
// change is audited (on the referral and on the case) and written to the outbox as
// InboundReferralLinked, in one transaction.
func (s *Service) LinkReferralCase(ctx context.Context, req *referralv1.LinkReferralCaseRequest) (*referralv1.LinkReferralCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if who.Role == auth.RolePartner {
		// The policy already keeps partners out; were it ever widened, a partner still could
		// not reach a mission's case.
		return nil, toStatus(errReferralNotFound)
	}
	if _, err := rpcerr.ParseID("referral_id", req.GetReferralId()); err != nil {
		return nil, err
	}
	caseID, err := rpcerr.ParseID("case_id", req.GetCaseId())
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_LinkReferralCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.LinkReferralCaseResponse{}
	if replayed, err := s.idem.Replay(ctx, s.db.Mission(who.Mission), key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}
	c, err := s.caseFor(ctx, who.Mission, caseID)
	if err != nil {
		return nil, toStatus(err)
	}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetReferralId(), Version: req.GetVersion(), Resp: resp}
	err = s.referrals.Run(ctx, m, func(r *referralv1.Referral, st *mutation.Step) (proto.Message, error) {
		if err := linkable(r); err != nil {
			return nil, err
		}
		r.CaseId, r.SubjectId = caseID.String(), c.GetSubjectId()
		resp.Referral = r
		st.Batch.Queue(`UPDATE referral.referral SET case_id = $2, subject_id = $3 WHERE referral_id = $1 AND mission = $4`,
			r.ReferralId, r.CaseId, nullUUID(r.SubjectId), r.Mission)
		// The case's trail shows who linked it, as the referral's does (Run's audit record).
		var entry database.Statement
		audit.Add(&entry, []audit.Entry{audit.For(ctx, who, r.Mission, caseID).WithClientRequest(key.RequestID)})
		entry.Queue(st.Batch)
		return &referralv1.InboundReferralLinked{Referral: r}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// linkable refuses a link the rules do not allow: only an inbound referral, once accepted,
// and only once.
func linkable(r *referralv1.Referral) error {
	switch {
	case r.Direction != inbound:
		return &LinkError{Why: "only an inbound referral is linked to a case: an outbound one is made from its case"}
	case r.Status != accepted && r.Status != completed:
		return &LinkError{Why: "an inbound referral is linked to a case once accepted: it is " + statusCode(r.Status)}
	case r.CaseId != "":
		return &LinkError{Why: "the referral is already linked to a case"}
	}
	return nil
}
