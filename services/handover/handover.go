package handover

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// ProposeHandover proposes a hand-over of parts of a case of the caller's mission. The case
// must be the caller's mission's (NOT_FOUND otherwise, as a case that does not exist), of the
// programme named, and open; the receiving mission another; the parts the programme's; the
// profile version published; the consent one of the principal's DATA_SHARING consents in
// force. A part already in an open hand-over of the case is refused by the database itself
// (handover.part's unique index), so that two racing proposals cannot both hold it.
func (s *Service) ProposeHandover(ctx context.Context, req *handoverv1.ProposeHandoverRequest) (*handoverv1.ProposeHandoverResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	caseID, err := rpcerr.ParseID("case_id", req.GetCaseId())
	if err != nil {
		return nil, err
	}
	if req.GetToMission() == who.Mission {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("to_mission", "must be another mission than the caller's"))
	}
	if err := checkParts(req.GetProgramme(), req.GetParts()); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), handoverv1.HandoverService_ProposeHandover_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &handoverv1.ProposeHandoverResponse{}
	q := s.db.Mission(who.Mission)
	if replayed, err := s.idem.Replay(ctx, q, key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}
	// A consent intake withdrew a moment ago is applied first (consent.CatchUp), so that a
	// proposal never rests on a consent that is gone.
	if err := consent.CatchUp(ctx, s.consumer, caseID, s.catchUpWait); err != nil {
		return nil, toStatus(err)
	}
	var c *projectedCase
	err = intakecase.Await(ctx, s.consumer, caseID, s.catchUpWait, caseMissing, func() (err error) {
		c, err = getCase(ctx, q, caseID)
		return err
	})
	if err != nil {
		return nil, toStatus(err)
	}
	// The receiving mission of an open hand-over reads the case's row too (to re-check it when
	// it moves the hand-over); only the case's own mission proposes. Another's case is not
	// found, as one that does not exist.
	if c.mission != who.Mission {
		return nil, errCaseNotFound
	}
	if err := s.checkProposal(ctx, req, c); err != nil {
		return nil, toStatus(err)
	}
	now := timestamppb.New(s.clock())
	h := &handoverv1.Handover{
		HandoverId: uuid.NewString(), CaseId: caseID.String(), SubjectId: c.subject.String(), Programme: c.programme,
		FromMission: who.Mission, ToMission: req.GetToMission(), Parts: req.GetParts(), Purpose: req.GetPurpose(),
		ConsentId: req.GetConsentId(), LegalBasis: req.GetLegalBasis(), ProfileVersion: req.GetProfileVersion(),
		Status: proposed, Version: 1, ProposedBy: who.Subject, CreateTime: now, UpdateTime: now,
	}
	resp.Handover = h
	n := mutation.New{Who: who, Key: key, ID: uuid.MustParse(h.HandoverId), About: uuid.MustParse(h.CaseId), Mission: who.Mission, Resp: resp}
	err = s.creator.Create(ctx, n, func(b *pgx.Batch) (proto.Message, error) {
		queueInsertHandover(b, h)
		return &handoverv1.HandoverProposed{HandoverId: h.HandoverId, CaseId: h.CaseId, FromMission: h.FromMission,
			ToMission: h.ToMission, Programme: h.Programme, Parts: h.Parts, Purpose: h.Purpose,
			ProfileVersion: h.ProfileVersion, Version: h.Version}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// checkProposal checks a proposal against the case it names and the published profiles.
func (s *Service) checkProposal(ctx context.Context, req *handoverv1.ProposeHandoverRequest, c *projectedCase) error {
	if c.programme != req.GetProgramme() {
		return rpcerr.InvalidArgument(rpcerr.FieldViolation("programme", "is not the case's programme"))
	}
	if c.closed {
		return errCaseClosed
	}
	if !c.sharing(req.GetConsentId()) {
		return errConsentNotInForce
	}
	ok, err := profilePublished(ctx, s.db.Mission(c.mission), c.programme, req.GetProfileVersion())
	if err != nil {
		return err
	}
	if !ok {
		return errProfileMissing
	}
	return nil
}

// moveRequest is what every move's request holds.
type moveRequest interface {
	proto.Message
	GetRequestId() string
	GetHandoverId() string
	GetVersion() int64
}

// move runs one move of an existing hand-over to status to (mutation.Kind.Run: the row lock,
// the replay of a retried request, the version check, the row, the outbox event, the audit and
// idempotency records in one transaction under the caller's mission), once the transition table
// allows the caller's mission to make it. set sets the move's own fields on the moved hand-over
// and puts it in the response. The handlers return their response beside move's error: gRPC
// sends no response with an error.
func (s *Service) move(ctx context.Context, method string, req moveRequest, resp proto.Message, to handoverv1.HandoverStatus,
	set func(h *handoverv1.Handover),
) error {
	who, err := auth.Caller(ctx)
	if err != nil {
		return err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), method, req)
	if err != nil {
		return toStatus(err)
	}
	if sharesFurther(to) {
		if err := s.catchUp(ctx, who.Mission, req.GetHandoverId()); err != nil {
			return toStatus(err)
		}
	}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetHandoverId(), Version: req.GetVersion(), Resp: resp}
	err = s.handovers.Run(ctx, m, func(l *locked, st *mutation.Step) (proto.Message, error) {
		if err := checkMove(l.h, who.Mission, to); err != nil {
			return nil, err
		}
		if sharesFurther(to) {
			if err := checkStillShared(ctx, st.Tx, l.h); err != nil {
				return nil, err
			}
		}
		l.h.Status, l.h.Version, l.h.UpdateTime = to, st.Version, timestamppb.New(st.Now)
		set(l.h)
		return movedEvent(l.h), nil
	})
	return toStatus(err)
}

// catchUp applies first any consent change intake committed for the case of the hand-over id
// names (consent.CatchUp), before the move to ACCEPTED or COMPLETED re-checks the consent, so
// that a withdrawal made a moment ago is never missed. It reads the hand-over once outside the
// move's transaction, whose own open transaction would hold the outbox horizon back; a
// hand-over the caller's mission neither sends nor receives is not found, as in the move.
func (s *Service) catchUp(ctx context.Context, mission, ref string) error {
	id, err := rpcerr.ParseID("handover_id", ref)
	if err != nil {
		return err
	}
	h, err := getHandover(ctx, s.db.Mission(mission), id, false)
	if err != nil {
		return err
	}
	return consent.CatchUp(ctx, s.consumer, uuid.MustParse(h.CaseId), s.catchUpWait)
}

// checkStillShared re-checks, at the moment of a move to ACCEPTED or COMPLETED and in its
// transaction, what the proposal checked of the case: still open in intake (errCaseClosed),
// and, unless the hand-over rests on a legal basis, its DATA_SHARING consent still in force
// (errConsentWithdrawn). Either mission reads the case's row: the sender as its own, the
// receiver while the hand-over is open (migrations/000030's receiver_of_open_handover_reads).
// A PROPOSED hand-over refused so stays PROPOSED until the sender withdraws it or the receiver
// declines it; an ACCEPTED one stays ACCEPTED, and is not completed.
func checkStillShared(ctx context.Context, tx pgx.Tx, h *handoverv1.Handover) error {
	c, err := getCase(ctx, tx, uuid.MustParse(h.CaseId))
	if err != nil {
		return err
	}
	if c.closed {
		return errCaseClosed
	}
	if !c.sharing(h.ConsentId) {
		return errConsentWithdrawn
	}
	return nil
}

// movedEvent is the outbox event of a hand-over's move to its status: ids, missions,
// programme, parts and codes.
func movedEvent(h *handoverv1.Handover) proto.Message {
	switch h.Status {
	case withdrawn:
		return &handoverv1.HandoverWithdrawn{HandoverId: h.HandoverId, CaseId: h.CaseId, FromMission: h.FromMission,
			ToMission: h.ToMission, Programme: h.Programme, Parts: h.Parts, Version: h.Version}
	case accepted:
		return &handoverv1.HandoverAccepted{HandoverId: h.HandoverId, CaseId: h.CaseId, FromMission: h.FromMission,
			ToMission: h.ToMission, Programme: h.Programme, Parts: h.Parts, ProfileVersion: h.ProfileVersion, Version: h.Version,
			ConsentId: h.ConsentId, LegalBasis: h.LegalBasis}
	case declined:
		return &handoverv1.HandoverDeclined{HandoverId: h.HandoverId, CaseId: h.CaseId, FromMission: h.FromMission,
			ToMission: h.ToMission, Programme: h.Programme, Parts: h.Parts, Reason: h.DeclineReason, Version: h.Version}
	}
	return &handoverv1.HandoverCompleted{HandoverId: h.HandoverId, CaseId: h.CaseId, FromMission: h.FromMission,
		ToMission: h.ToMission, Programme: h.Programme, Parts: h.Parts, Version: h.Version}
}

// WithdrawHandover withdraws a proposal before it is answered (the sending mission); its
// parts of the case are free again.
func (s *Service) WithdrawHandover(ctx context.Context, req *handoverv1.WithdrawHandoverRequest) (*handoverv1.WithdrawHandoverResponse, error) {
	resp := &handoverv1.WithdrawHandoverResponse{}
	return resp, s.move(ctx, handoverv1.HandoverService_WithdrawHandover_FullMethodName, req, resp, withdrawn,
		func(h *handoverv1.Handover) { resp.Handover = h })
}

// AcceptHandover accepts a proposal (the receiving mission): from now on the receiving mission
// holds the parts. The case must still be open in intake and the consent the proposal rests on
// still in force (checkStillShared): FAILED_PRECONDITION CASE_CLOSED or CONSENT_WITHDRAWN
// otherwise, and nothing is written.
func (s *Service) AcceptHandover(ctx context.Context, req *handoverv1.AcceptHandoverRequest) (*handoverv1.AcceptHandoverResponse, error) {
	resp := &handoverv1.AcceptHandoverResponse{}
	return resp, s.move(ctx, handoverv1.HandoverService_AcceptHandover_FullMethodName, req, resp, accepted,
		func(h *handoverv1.Handover) { resp.Handover = h })
}

// DeclineHandover declines a proposal with a coded reason (the receiving mission), recorded on
// the hand-over and as the audit record's reason; its parts of the case are free again.
func (s *Service) DeclineHandover(ctx context.Context, req *handoverv1.DeclineHandoverRequest) (*handoverv1.DeclineHandoverResponse, error) {
	resp := &handoverv1.DeclineHandoverResponse{}
	ctx = audit.WithReason(ctx, enumcode.Code(req.GetReason()))
	return resp, s.move(ctx, handoverv1.HandoverService_DeclineHandover_FullMethodName, req, resp, declined,
		func(h *handoverv1.Handover) { h.DeclineReason, resp.Handover = req.GetReason(), h })
}

// CompleteHandover records that the part has begun at the receiving mission (either mission,
// once accepted), re-checking the case and the consent as AcceptHandover does.
func (s *Service) CompleteHandover(ctx context.Context, req *handoverv1.CompleteHandoverRequest) (*handoverv1.CompleteHandoverResponse, error) {
	resp := &handoverv1.CompleteHandoverResponse{}
	return resp, s.move(ctx, handoverv1.HandoverService_CompleteHandover_FullMethodName, req, resp, completed,
		func(h *handoverv1.Handover) { resp.Handover = h })
}
