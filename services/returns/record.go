package returns

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// RecordEligibility records the outcome of counselling.
func (s *Service) RecordEligibility(ctx context.Context, req *returnsv1.RecordEligibilityRequest) (*returnsv1.RecordEligibilityResponse, error) {
	resp := &returnsv1.RecordEligibilityResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_RecordEligibility_FullMethodName, stepEligibility, resp,
		checkEligibility(req.GetDecision(), s.today()),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			d := proto.CloneOf(req.GetDecision())
			d.Provenance = p
			r.Status = notEligible
			if d.GetEligibility() == returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE {
				r.Status = eligible
			}
			r.EligibilityDecisions = append(r.EligibilityDecisions, d)
			queueEligibility(b, r.CaseId, rec.acting, d)
			resp.Return = r
			return &returnsv1.EligibilityDecided{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version, Decision: d,
				Vulnerabilities: r.Vulnerabilities}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RecordPreDepartureStep records a safeguard or a travel arrangement.
func (s *Service) RecordPreDepartureStep(ctx context.Context, req *returnsv1.RecordPreDepartureStepRequest) (*returnsv1.RecordPreDepartureStepResponse, error) {
	step := stepTravel
	if isSafeguard(req.GetStep()) {
		step = stepSafeguard
	}
	resp := &returnsv1.RecordPreDepartureStepResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_RecordPreDepartureStep_FullMethodName, step, resp,
		checkPreDepartureStep(req.GetStep(), s.today()),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			st := proto.CloneOf(req.GetStep())
			st.Provenance = p
			if concernsPerson(st) {
				id, err := personOf(r, st.GetSubjectId(), memberIDs(r), "step.subject_id", "must be a person of the case")
				if err != nil {
					return nil, err
				}
				st.SubjectId = id
			}
			r.PreDepartureSteps = append(r.PreDepartureSteps, st)
			queueStep(b, r.CaseId, rec.acting, st)
			resp.Return = r
			return &returnsv1.PreDepartureStepRecorded{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version, Step: st}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RecordDeparture records the departure of the travellers, written as the common
// DepartureRecorded event that analytics counts persons returned from.
func (s *Service) RecordDeparture(ctx context.Context, req *returnsv1.RecordDepartureRequest) (*returnsv1.RecordDepartureResponse, error) {
	resp := &returnsv1.RecordDepartureResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_RecordDeparture_FullMethodName, stepDeparture, resp,
		checkDeparture(req, s.today()),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			var v rpcerr.Violations
			if req.GetReturnCountry() == r.GetHostCountry() {
				v.Add("return_country", "must differ from the case's host country")
			}
			checkNotBefore(&v, "departure_date", req.GetDepartureDate(), latestEligibility(r).GetDecisionDate(), "the eligibility decision date")
			travellers := travellersOf(&v, r, req.GetTravellingSubjectIds())
			if err := v.Err(); err != nil {
				return nil, err
			}
			// A household member bound by their own refused or withdrawn consent does not
			// travel with IOM's assistance, whatever the principal consented to.
			for _, id := range travellers {
				if slices.Contains(rec.notAssisted, id) {
					return nil, &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, SubjectID: id}
				}
			}
			if unmet := unmetRequirements(r, travellers); len(unmet) > 0 {
				return nil, &RequirementError{Unmet: unmet}
			}
			r.Departure = &returnsv1.Departure{
				DepartureDate:        req.GetDepartureDate(),
				ReturnCountry:        req.GetReturnCountry(),
				TravellingSubjectIds: travellers,
				Provenance:           p,
			}
			r.Status = departed
			queueDeparture(b, r.CaseId, rec.acting, r.Departure)
			resp.Return = r
			event := &commonv1.DepartureRecorded{
				CaseId:          r.CaseId,
				Mission:         r.Mission,
				Programme:       commonv1.Programme_PROGRAMME_AVRR,
				DepartureDate:   req.GetDepartureDate(),
				HostCountry:     r.HostCountry,
				ReturnCountry:   req.GetReturnCountry(),
				Vulnerabilities: r.Vulnerabilities,
			}
			for _, m := range r.GetMembers() {
				if slices.Contains(travellers, m.GetSubjectId()) {
					event.Travellers = append(event.Travellers, &commonv1.TravellingPerson{
						SubjectId: m.GetSubjectId(), Sex: m.GetSex(), AgeBand: m.GetAgeBand(),
						Nationality: m.GetNationality(), Principal: m.GetPrincipal(),
					})
				}
			}
			return event, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// travellersOf resolves the requested travellers to case members, in case order; everyone
// when none are named. The principal must travel.
func travellersOf(v *rpcerr.Violations, r *returnsv1.Return, requested []string) []string {
	members := memberIDs(r)
	if len(requested) == 0 {
		return members
	}
	want := map[string]bool{}
	for i, id := range requested {
		n := canonicalID(id)
		if !slices.Contains(members, n) {
			v.Add(fmt.Sprintf("travelling_subject_ids[%d]", i), "must be a person of the case")
		}
		want[n] = true
	}
	if !want[r.GetSubjectId()] {
		v.Add("travelling_subject_ids", "must include the principal applicant")
	}
	var out []string
	for _, id := range members {
		if want[id] {
			out = append(out, id)
		}
	}
	return out
}

// RecordArrival records arrival and reception in the return country.
func (s *Service) RecordArrival(ctx context.Context, req *returnsv1.RecordArrivalRequest) (*returnsv1.RecordArrivalResponse, error) {
	var v rpcerr.Violations
	checkDay(&v, "arrival.arrival_date", req.GetArrival().GetArrivalDate(), s.today())
	resp := &returnsv1.RecordArrivalResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_RecordArrival_FullMethodName, stepArrival, resp, v.Err(),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			var v rpcerr.Violations
			checkNotBefore(&v, "arrival.arrival_date", req.GetArrival().GetArrivalDate(), r.GetDeparture().GetDepartureDate(), "the departure date")
			if err := v.Err(); err != nil {
				return nil, err
			}
			r.Arrival = proto.CloneOf(req.GetArrival())
			r.Arrival.Provenance = p
			r.Status = arrived
			queueArrival(b, r.CaseId, rec.acting, r.Arrival)
			resp.Return = r
			return &returnsv1.ArrivalRecorded{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version,
				ReturnCountry: r.GetDeparture().GetReturnCountry(), Arrival: r.Arrival,
				TravellingSubjectIds: r.GetDeparture().GetTravellingSubjectIds()}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// SetReintegrationPlan sets or revises the reintegration plan.
func (s *Service) SetReintegrationPlan(ctx context.Context, req *returnsv1.SetReintegrationPlanRequest) (*returnsv1.SetReintegrationPlanResponse, error) {
	resp := &returnsv1.SetReintegrationPlanResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_SetReintegrationPlan_FullMethodName, stepPlan, resp,
		checkPlan(req.GetPlan(), s.today()),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			var v rpcerr.Violations
			checkNotBefore(&v, "plan.plan_date", req.GetPlan().GetPlanDate(), r.GetArrival().GetArrivalDate(), "the arrival date")
			if err := v.Err(); err != nil {
				return nil, err
			}
			plan := proto.CloneOf(req.GetPlan())
			plan.Provenance = p
			r.ReintegrationPlans = append(r.ReintegrationPlans, plan)
			r.Status = reintegration
			queuePlan(b, r.CaseId, rec.acting, plan)
			resp.Return = r
			return &returnsv1.ReintegrationPlanSet{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version,
				ReturnCountry: r.GetDeparture().GetReturnCountry(), Plan: plan}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// RecordAssistance records assistance delivered against the plan.
func (s *Service) RecordAssistance(ctx context.Context, req *returnsv1.RecordAssistanceRequest) (*returnsv1.RecordAssistanceResponse, error) {
	resp := &returnsv1.RecordAssistanceResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_RecordAssistance_FullMethodName, stepAssistance, resp,
		checkAssistance(req.GetAssistance(), s.today()),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			a := proto.CloneOf(req.GetAssistance())
			var v rpcerr.Violations
			checkNotBefore(&v, "assistance.delivery_date", a.GetDeliveryDate(), r.GetArrival().GetArrivalDate(), "the arrival date")
			if err := v.Err(); err != nil {
				return nil, err
			}
			id, err := personOf(r, a.GetSubjectId(), r.GetDeparture().GetTravellingSubjectIds(), "assistance.subject_id", "must be a person who returned")
			if err != nil {
				return nil, err
			}
			if slices.Contains(rec.notAssisted, id) {
				return nil, &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, SubjectID: id}
			}
			if !planned(latestPlan(r), a.GetDimension(), a.GetType()) {
				return nil, &RuleError{Reason: "NOT_IN_PLAN", Subject: "assistance.type",
					Message: "the reintegration plan provides no such assistance in this dimension: revise the plan first"}
			}
			a.SubjectId, a.AssistanceId, a.Provenance = id, uuid.NewString(), p
			r.Assistance = append(r.Assistance, a)
			queueAssistance(b, r.CaseId, rec.acting, a)
			resp.Return, resp.Assistance = r, a
			return &returnsv1.AssistanceDelivered{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version,
				ReturnCountry: r.GetDeparture().GetReturnCountry(), Assistance: a}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// planned reports whether the plan provides assistance of type t in dimension d.
func planned(p *returnsv1.ReintegrationPlan, d returnsv1.Dimension, t returnsv1.AssistanceType) bool {
	switch d {
	case returnsv1.Dimension_DIMENSION_ECONOMIC:
		return slices.Contains(p.GetEconomic(), t)
	case returnsv1.Dimension_DIMENSION_SOCIAL:
		return slices.Contains(p.GetSocial(), t)
	case returnsv1.Dimension_DIMENSION_PSYCHOSOCIAL:
		return slices.Contains(p.GetPsychosocial(), t)
	}
	return false
}

// RecordMonitoringVisit records a monitoring visit and its RSS scores. Without a composite
// score, the mean of the three dimension scores is recorded.
func (s *Service) RecordMonitoringVisit(ctx context.Context, req *returnsv1.RecordMonitoringVisitRequest) (*returnsv1.RecordMonitoringVisitResponse, error) {
	resp := &returnsv1.RecordMonitoringVisitResponse{}
	err := s.step(ctx, req, returnsv1.ReturnService_RecordMonitoringVisit_FullMethodName, stepMonitoring, resp,
		checkVisit(req.GetVisit(), s.today()),
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			visit := proto.CloneOf(req.GetVisit())
			var v rpcerr.Violations
			checkNotBefore(&v, "visit.visit_date", visit.GetVisitDate(), r.GetArrival().GetArrivalDate(), "the arrival date")
			if err := v.Err(); err != nil {
				return nil, err
			}
			if visit.CompositeScore == nil {
				visit.CompositeScore = proto.Float64(compositeScore(visit))
			}
			visit.VisitId, visit.Provenance = uuid.NewString(), p
			r.MonitoringVisits = append(r.MonitoringVisits, visit)
			queueVisit(b, r.CaseId, rec.acting, visit)
			resp.Return, resp.Visit = r, visit
			return &returnsv1.MonitoringVisitRecorded{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version,
				ReturnCountry: r.GetDeparture().GetReturnCountry(), Visit: visit, VisitNumber: int32(len(r.MonitoringVisits))}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// CloseReturn closes an open return with a coded reason.
func (s *Service) CloseReturn(ctx context.Context, req *returnsv1.CloseReturnRequest) (*returnsv1.CloseReturnResponse, error) {
	resp := &returnsv1.CloseReturnResponse{}
	ctx = audit.WithReason(ctx, req.GetReason().String())
	err := s.step(ctx, req, returnsv1.ReturnService_CloseReturn_FullMethodName, stepClose, resp, nil,
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			reason := req.GetReason()
			switch {
			case reason == returnsv1.ClosureReason_CLOSURE_REASON_NOT_ELIGIBLE && r.Status != notEligible:
				return nil, &RuleError{Reason: "CLOSURE_REASON_MISMATCH", Subject: "reason",
					Message: "NOT_ELIGIBLE closes only a return found not eligible"}
			case reason == returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED && r.Status != reintegration:
				return nil, &RuleError{Reason: "CLOSURE_REASON_MISMATCH", Subject: "reason",
					Message: "REINTEGRATION_COMPLETED closes only a return with a reintegration plan"}
			}
			change := &returnsv1.StatusChange{From: r.Status, To: closed, ClosureReason: reason, Provenance: p}
			rec.closedFrom, r.Status, r.ClosureReason = r.Status, closed, reason
			r.StatusChanges = append(r.StatusChanges, change)
			queueStatusChange(b, r.CaseId, rec.acting, change)
			resp.Return = r
			return &returnsv1.ReturnClosed{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version,
				ClosedFrom: change.From, Reason: reason}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// ReopenReturn reopens a closed return in the status it was closed in.
func (s *Service) ReopenReturn(ctx context.Context, req *returnsv1.ReopenReturnRequest) (*returnsv1.ReopenReturnResponse, error) {
	resp := &returnsv1.ReopenReturnResponse{}
	ctx = audit.WithReason(ctx, req.GetReason().String())
	err := s.step(ctx, req, returnsv1.ReturnService_ReopenReturn_FullMethodName, stepReopen, resp, nil,
		func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error) {
			r := rec.ret
			if rec.closedFrom == returnsv1.ReturnStatus_RETURN_STATUS_UNSPECIFIED {
				return nil, fmt.Errorf("return %s is closed without the status it was closed in", r.CaseId)
			}
			change := &returnsv1.StatusChange{From: closed, To: rec.closedFrom, ReopenReason: req.GetReason(), Provenance: p}
			r.Status, r.ClosureReason = rec.closedFrom, returnsv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED
			r.StatusChanges = append(r.StatusChanges, change)
			queueStatusChange(b, r.CaseId, rec.acting, change)
			resp.Return = r
			return &returnsv1.ReturnReopened{CaseId: r.CaseId, Mission: r.Mission, Version: p.Version,
				Status: r.Status, Reason: req.GetReason()}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// mutatingRequest is what every mutating request has.
type mutatingRequest interface {
	proto.Message
	GetRequestId() string
	GetCaseId() string
	GetVersion() int64
}

// step runs one mutating RPC: the caller, the request's own checks (invalid, already
// computed), its idempotency key, then mutate. Errors come back as status errors.
func (s *Service) step(ctx context.Context, req mutatingRequest, method, step string, resp proto.Message, invalid error, apply change) error {
	who, err := auth.Caller(ctx)
	if err != nil {
		return err
	}
	if invalid != nil {
		return invalid
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), method, req)
	if err != nil {
		return toStatus(err)
	}
	return toStatus(s.mutate(ctx, who, key, step, req.GetCaseId(), req.GetVersion(), resp, apply))
}

func (s *Service) today() time.Time { return civildate.Day(s.clock()) }

// personOf resolves an optional subject id to one of ids (the principal when empty).
func personOf(r *returnsv1.Return, subjectID string, ids []string, field, description string) (string, error) {
	if subjectID == "" {
		return r.GetSubjectId(), nil
	}
	id := canonicalID(subjectID)
	if !slices.Contains(ids, id) {
		var v rpcerr.Violations
		v.Add(field, description)
		return "", v.Err()
	}
	return id, nil
}

// canonicalID writes a subject id as the server stores it (lower case, hyphenated).
func canonicalID(s string) string {
	id, err := uuid.Parse(s)
	if err != nil {
		return s
	}
	return id.String()
}
