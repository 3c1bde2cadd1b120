package trafficking

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// RecordScreening records a screening outcome and moves the case to the matching status.
func (s *Service) RecordScreening(ctx context.Context, req *traffickingv1.RecordScreeningRequest) (*traffickingv1.RecordScreeningResponse, error) {
	resp := &traffickingv1.RecordScreeningResponse{}
	err := s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return checkDate("date", req.GetDate(), s.today()) },
		func(c *traffickingv1.VictimCase, _ *pgx.Batch) (proto.Message, error) {
			if err := checkScreening(c.Status, req.GetStatus()); err != nil {
				return nil, err
			}
			previous := c.Status
			c.Status = statusAfterScreening(req.GetStatus())
			c.Identification = &traffickingv1.Identification{Status: req.GetStatus(), IdentifiedBy: req.GetIdentifiedBy(), Date: req.GetDate()}
			resp.VictimCase = c
			return &traffickingv1.VictimScreened{VictimCase: c, Identification: c.Identification, PreviousStatus: previous}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RecordExploitation records the exploitation details, replacing any recorded before.
func (s *Service) RecordExploitation(ctx context.Context, req *traffickingv1.RecordExploitationRequest) (*traffickingv1.RecordExploitationResponse, error) {
	resp := &traffickingv1.RecordExploitationResponse{}
	err := s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return checkExploitation(req.GetExploitation(), s.today()) },
		func(c *traffickingv1.VictimCase, _ *pgx.Batch) (proto.Message, error) {
			if err := checkVictimFact(c.Status, actionExploitation); err != nil {
				return nil, err
			}
			if err := checkChildAtExploitation(req.GetExploitation(), c.GetPrincipal().GetAgeBand()); err != nil {
				return nil, err
			}
			c.Exploitation = req.GetExploitation()
			resp.VictimCase = c
			return &traffickingv1.ExploitationRecorded{VictimCase: c, Exploitation: c.Exploitation}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RecordAssistance adds a direct assistance record.
func (s *Service) RecordAssistance(ctx context.Context, req *traffickingv1.RecordAssistanceRequest) (*traffickingv1.RecordAssistanceResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	resp := &traffickingv1.RecordAssistanceResponse{}
	err = s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return checkAssistance(req, s.today()) },
		func(c *traffickingv1.VictimCase, b *pgx.Batch) (proto.Message, error) {
			if err := checkVictimFact(c.Status, actionAssistance); err != nil {
				return nil, err
			}
			a := &traffickingv1.Assistance{
				AssistanceId: uuid.NewString(),
				Type:         req.GetType(),
				StartDate:    req.GetStartDate(),
				EndDate:      req.GetEndDate(),
				Provider:     req.GetProvider(),
				RecordedBy:   who.Subject,
			}
			queueInsertAssistance(b, c.CaseId, who.Mission, a, s.clock())
			c.Assistance = append(c.Assistance, a)
			resp.VictimCase, resp.Assistance = c, a
			return &traffickingv1.AssistanceProvided{VictimCase: c, Assistance: a}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// EndAssistance records the end date of an assistance record still going on.
func (s *Service) EndAssistance(ctx context.Context, req *traffickingv1.EndAssistanceRequest) (*traffickingv1.EndAssistanceResponse, error) {
	resp := &traffickingv1.EndAssistanceResponse{}
	err := s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return checkDate("end_date", req.GetEndDate(), s.today()) },
		func(c *traffickingv1.VictimCase, b *pgx.Batch) (proto.Message, error) {
			if err := checkEndAssistance(c.Status); err != nil {
				return nil, err
			}
			var a *traffickingv1.Assistance
			for _, x := range c.Assistance {
				if x.AssistanceId == req.GetAssistanceId() {
					a = x
				}
			}
			switch {
			case a == nil:
				return nil, errAssistanceNotFound
			case a.EndDate != nil:
				return nil, &AssistanceEndedError{AssistanceID: a.AssistanceId}
			case civildate.ToTime(req.GetEndDate()).Before(civildate.ToTime(a.StartDate)):
				return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("end_date", "must not be before the record's start_date"))
			}
			a.EndDate = req.GetEndDate()
			queueEndAssistance(b, c.CaseId, a)
			resp.VictimCase = c
			return &traffickingv1.AssistanceProvided{VictimCase: c, Assistance: a}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RecordLawEnforcementCooperation records where the victim stands with law enforcement.
func (s *Service) RecordLawEnforcementCooperation(ctx context.Context, req *traffickingv1.RecordLawEnforcementCooperationRequest) (*traffickingv1.RecordLawEnforcementCooperationResponse, error) {
	resp := &traffickingv1.RecordLawEnforcementCooperationResponse{}
	err := s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return checkDate("date", req.GetDate(), s.today()) },
		func(c *traffickingv1.VictimCase, _ *pgx.Batch) (proto.Message, error) {
			if err := checkVictimFact(c.Status, actionCooperation); err != nil {
				return nil, err
			}
			c.LawEnforcementCooperation = &traffickingv1.LawEnforcementCooperation{Status: req.GetStatus(), Date: req.GetDate()}
			resp.VictimCase = c
			return &traffickingv1.LawEnforcementCooperationRecorded{VictimCase: c, Cooperation: c.LawEnforcementCooperation}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// AssessRisk records a risk assessment; it replaces the previous one on the record (the
// events keep every assessment).
func (s *Service) AssessRisk(ctx context.Context, req *traffickingv1.AssessRiskRequest) (*traffickingv1.AssessRiskResponse, error) {
	resp := &traffickingv1.AssessRiskResponse{}
	err := s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return checkRisk(req, s.today()) },
		func(c *traffickingv1.VictimCase, _ *pgx.Batch) (proto.Message, error) {
			if err := checkVictimFact(c.Status, actionRisk); err != nil {
				return nil, err
			}
			c.RiskAssessment = &traffickingv1.RiskAssessment{Level: req.GetLevel(), Date: req.GetDate(), Factors: req.GetFactors()}
			resp.VictimCase = c
			return &traffickingv1.RiskAssessed{VictimCase: c, Assessment: c.RiskAssessment}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// CloseVictimCase closes a victim case; a closed case takes no more facts.
func (s *Service) CloseVictimCase(ctx context.Context, req *traffickingv1.CloseVictimCaseRequest) (*traffickingv1.CloseVictimCaseResponse, error) {
	resp := &traffickingv1.CloseVictimCaseResponse{}
	ctx = audit.WithReason(ctx, req.GetReason().String())
	err := s.record(ctx, req, req.GetCaseId(), req.GetVersion(), resp,
		func() error { return nil },
		func(c *traffickingv1.VictimCase, _ *pgx.Batch) (proto.Message, error) {
			if err := checkClose(c.Status, req.GetReason()); err != nil {
				return nil, err
			}
			c.Status, c.ClosureReason = closed, req.GetReason()
			resp.VictimCase = c
			return &traffickingv1.VictimCaseClosed{VictimCase: c, Reason: req.GetReason(), ClosureDate: civildate.FromTime(s.today())}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// change applies a fact to a locked case: it edits c in place, may queue extra writes on b,
// fills the response, and returns the event to record.
type change func(c *traffickingv1.VictimCase, b *pgx.Batch) (proto.Message, error)

// mutatingRequest is a request that changes a victim case.
type mutatingRequest interface {
	proto.Message
	GetRequestId() string
}

// record runs one mutating RPC: it checks the request, keys it for idempotency and applies
// the change, mapping every error to its status.
func (s *Service) record(ctx context.Context, req mutatingRequest, caseID string, version int64, resp proto.Message, check func() error, apply change) error {
	who, err := auth.Caller(ctx)
	if err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), string(proto.MessageName(req)), req)
	if err != nil {
		return toStatus(err)
	}
	return toStatus(s.mutate(ctx, who, key, req, caseID, version, resp, apply))
}

// needsAssistance says which changes need the principal's ASSISTANCE consent in force: every
// VoT record but closing the case and ending an assistance record, which are how a withdrawal
// is acted on.
func needsAssistance(req mutatingRequest) bool {
	switch req.(type) {
	case *traffickingv1.CloseVictimCaseRequest, *traffickingv1.EndAssistanceRequest:
		return false
	}
	return true
}

// mutate runs one change to a victim case (mutation.Kind.Run: the row lock, the replay of a
// retried request, the version check, the case row, the outbox event, the audit and
// idempotency records in one transaction). The caller's mission must hold the part of the case
// the step belongs to (partOf, checkPart). When the change needs it, the principal's
// assistance consent must be in force; any consent change intake committed for the case is
// applied first (consent.CatchUp), so a withdrawal takes effect at once. A case not (yet)
// known is looked for again after catching up on the consumer's events: a case registered, or
// a part of it handed over, a moment ago may not have been applied by the background consumer.
func (s *Service) mutate(ctx context.Context, who auth.Claims, key idempotency.Key, req mutatingRequest, caseID string, version int64,
	resp proto.Message, apply change,
) error {
	id, err := parseCaseID(caseID)
	if err != nil {
		return err
	}
	if err := handoverpart.CatchUp(ctx, s.consumer, id, catchUpWait); err != nil {
		return err
	}
	part, ofPart := partOf(req)
	m := mutation.Mutation{Who: who, Key: key, Ref: caseID, Version: version, Resp: resp}
	return s.cases.Run(ctx, m, func(w *worked, st *mutation.Step) (proto.Message, error) {
		if ofPart {
			if err := checkPart(ctx, st.Tx, w.VictimCase, w.by, part); err != nil {
				return nil, err
			}
		}
		if needsAssistance(req) {
			if err := requireAssistance(ctx, st.Tx, id); err != nil {
				return nil, err
			}
		}
		return apply(w.VictimCase, st.Batch)
	})
}

// worked is a victim case as one mission works on it: the case's own, or one that holds a part
// of it. Its change is written under that mission's declaration (outbox event and audit
// record included), which row-level security requires.
type worked struct {
	*traffickingv1.VictimCase
	by string
}

// kind describes a victim case to mutation.Run. Every service's Kind is alike in shape: each
// fills the same fields with its own aggregate's functions.
func (s *Service) kind() mutation.Kind[*worked] {
	return mutation.Kind[*worked]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: parseCaseID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*worked, error) {
			c, err := getCase(ctx, tx, s.missionFilter(who), id, true)
			if err != nil {
				return nil, err
			}
			return &worked{VictimCase: c, by: who.Mission}, nil
		},
		Version: func(w *worked) int64 { return w.GetVersion() },
		Mission: func(w *worked) string { return w.by },
		Stale: func(caseID string, w *worked) error {
			return staleVersion(caseID, w.GetVersion())
		},
		Save: func(w *worked, st *mutation.Step) {
			w.Version = st.Version
			w.UpdateTime = timestamppb.New(st.Now)
			queueUpdateCase(st.Batch, w.VictimCase)
		},
		Await: func(ctx context.Context, id uuid.UUID, attempt func() error) error {
			return intakecase.Await(ctx, s.consumer, id, catchUpWait, notFound, attempt)
		},
	}
}

// today is the service's current calendar day (UTC).
func (s *Service) today() time.Time {
	return civildate.Day(s.clock())
}
