package hasm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// RequestAssistance records a mission's request for a stranded migrant's return, or for the
// reception at origin. The case must be an open HASM case of the caller's mission whose
// RECEPTION no other mission holds, or one whose RECEPTION (or whole case) a hand-over gave the
// caller; the fund must exist in the request's currency. The request is the caller's mission's,
// and its amount is committed only when HQ approves.
func (s *Service) RequestAssistance(ctx context.Context, req *hasmv1.RequestAssistanceRequest) (*hasmv1.RequestAssistanceResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	caseID, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_RequestAssistance_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.RequestAssistanceResponse{}
	if replayed, err := s.idem.Replay(ctx, s.db.Mission(who.Mission), key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}

	if err := s.catchUpConsent(ctx, caseID); err != nil {
		return nil, toStatus(err)
	}
	c, err := s.findCase(ctx, who.Mission, caseID)
	if err != nil {
		return nil, toStatus(err)
	}
	if c.status == intakeClosed {
		return nil, toStatus(&CaseClosedError{CaseID: caseID.String()})
	}
	if !c.assistanceAllowed {
		return nil, toStatus(&consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE})
	}
	fund, err := getFund(ctx, s.db.Mission(who.Mission), req.GetFundCode(), req.GetFundYear(), false)
	switch {
	case errors.Is(err, errFundNotFound):
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("fund_code", "no fund has this code for fund_year"))
	case err != nil:
		return nil, err
	case fund.GetCurrency() != req.GetCurrency():
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("currency", "must be the fund's currency, "+fund.GetCurrency()))
	}

	now := timestamppb.New(s.clock())
	r := &hasmv1.AssistanceRequest{
		CaseId:                  caseID.String(),
		Mission:                 who.Mission,
		Status:                  hasmv1.RequestStatus_REQUEST_STATUS_REQUESTED,
		Version:                 1,
		SubjectId:               c.principal.String(),
		HostCountry:             c.hostCountry,
		StrandedReason:          req.GetStrandedReason(),
		NoOtherAssistanceReason: req.GetNoOtherAssistanceReason(),
		EstimatedCost:           req.GetEstimatedCost(),
		Currency:                req.GetCurrency(),
		FundCode:                req.GetFundCode(),
		FundYear:                req.GetFundYear(),
		RequestedBy:             who.Subject,
		CreateTime:              now,
		UpdateTime:              now,
	}
	resp.Request = r
	n := mutation.New{Who: who, Key: key, ID: caseID, Mission: r.Mission, Resp: resp}
	err = s.creator.Create(ctx, n, func(b *pgx.Batch) (proto.Message, error) {
		queueInsertRequest(b, r)
		return &hasmv1.AssistanceRequested{Request: r}, nil
	})
	switch {
	case err == nil:
		return resp, nil
	case database.IsUniqueViolation(err, "request_pkey"):
		return nil, toStatus(errAlreadyRequested)
	}
	return nil, toStatus(fmt.Errorf("insert request: %w", err))
}

// DecideRequest approves or rejects a request, at HQ. An approval commits the estimated cost
// on the request's fund under the fund's row lock, in the same transaction as the decision:
// concurrent approvals of one fund take turns, and one that the remaining budget cannot
// cover is refused with nothing written.
func (s *Service) DecideRequest(ctx context.Context, req *hasmv1.DecideRequestRequest) (*hasmv1.DecideRequestResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !atHQ(who, auth.RoleProgrammeManager) {
		return nil, status.Error(codes.PermissionDenied, "only a programme manager at HQ decides HASM requests")
	}
	approve := req.GetDecision() == hasmv1.Decision_DECISION_APPROVE
	var v rpcerr.Violations
	switch {
	case approve && req.GetRejectionReason() != hasmv1.RejectionReason_REJECTION_REASON_UNSPECIFIED:
		v.Add("rejection_reason", "must be unset to approve")
	case !approve && req.GetRejectionReason() == hasmv1.RejectionReason_REJECTION_REASON_UNSPECIFIED:
		v.Add("rejection_reason", "is required to reject")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_DecideRequest_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.DecideRequestResponse{}
	// A rejection's coded reason is the decision's why; an approval states none.
	if !approve {
		ctx = audit.WithReason(ctx, req.GetRejectionReason().String())
	}
	decisions := s.decisionKind(req.GetMission())
	err = s.mutate(ctx, who, key, &decisions, req.GetCaseId(), req.GetVersion(), approve, resp, func(tx pgx.Tx, r *hasmv1.AssistanceRequest, b *pgx.Batch) (proto.Message, error) {
		to := hasmv1.RequestStatus_REQUEST_STATUS_REJECTED
		if approve {
			to = hasmv1.RequestStatus_REQUEST_STATUS_APPROVED
		}
		if err := checkTransition(r.Status, to); err != nil {
			return nil, err
		}
		fund, err := getFund(ctx, tx, r.FundCode, r.FundYear, approve)
		if err != nil {
			return nil, err
		}
		r.Status = to
		r.DecidedBy = who.Subject
		r.DecideTime = timestamppb.New(s.clock())
		if approve {
			if err := s.requireAssistance(ctx, tx, r, true); err != nil {
				return nil, err
			}
			if err := commit(fund, r.Currency, r.EstimatedCost, r.DecideTime); err != nil {
				return nil, err
			}
			queueUpdateFund(b, fund)
			r.ApprovedAmount = r.EstimatedCost
		} else {
			r.RejectionReason = req.GetRejectionReason()
		}
		resp.Request, resp.Fund = r, fund
		return &hasmv1.RequestDecided{Request: r, Decision: req.GetDecision()}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// commit adds amount to a locked fund's committed amount, or reports why it cannot.
func commit(f *hasmv1.Fund, currency string, amount int64, at *timestamppb.Timestamp) error {
	if f.Currency != currency {
		// Requests are checked against their fund's currency, which never changes: a mismatch
		// here is a fault, not a caller's mistake.
		return fmt.Errorf("request currency differs from fund %s/%d's", f.Code, f.Year)
	}
	if f.Remaining < amount {
		return &FundInsufficientError{Code: f.Code, Year: f.Year, Currency: f.Currency, Remaining: f.Remaining, Amount: amount}
	}
	f.Committed += amount
	f.Remaining -= amount
	f.UpdateTime = at
	return nil
}

// requireAssistance refuses a change to a request whose principal's ASSISTANCE consent (or
// legal basis) is not in force and, with open, one whose intake case is closed.
func (s *Service) requireAssistance(ctx context.Context, q database.Querier, r *hasmv1.AssistanceRequest, open bool) error {
	c, err := getCase(ctx, q, "", uuid.MustParse(r.CaseId))
	if err != nil {
		return err
	}
	if open && c.status == intakeClosed {
		return &CaseClosedError{CaseID: r.CaseId}
	}
	if !c.assistanceAllowed {
		return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
	}
	return nil
}

// RecordDeparture records the departure of an approved request's return, and writes the
// shared DepartureRecorded event that analytics counts persons returned by.
func (s *Service) RecordDeparture(ctx context.Context, req *hasmv1.RecordDepartureRequest) (*hasmv1.RecordDepartureResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var v rpcerr.Violations
	checkDay(&v, "departure_date", req.GetDepartureDate(), s.clock())
	checkCountry(&v, "return_country", req.GetReturnCountry())
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.RecordDepartureResponse{}
	steps := s.stepKind(hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName)
	err = s.mutate(ctx, who, key, &steps, req.GetCaseId(), req.GetVersion(), true, resp, func(tx pgx.Tx, r *hasmv1.AssistanceRequest, _ *pgx.Batch) (proto.Message, error) {
		if err := checkTransition(r.Status, hasmv1.RequestStatus_REQUEST_STATUS_DEPARTED); err != nil {
			return nil, err
		}
		if err := s.requireAssistance(ctx, tx, r, true); err != nil {
			return nil, err
		}
		if req.GetReturnCountry() == r.HostCountry {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("return_country", "must not be the host country"))
		}
		caseID := uuid.MustParse(r.CaseId)
		members, err := caseMembers(ctx, tx, caseID)
		if err != nil {
			return nil, err
		}
		travellers, err := travelling(members, req.GetTravellingSubjectIds())
		if err != nil {
			return nil, err
		}
		c, err := getCase(ctx, tx, "", caseID)
		if err != nil {
			return nil, err
		}
		r.Status = hasmv1.RequestStatus_REQUEST_STATUS_DEPARTED
		r.DepartureDate = req.GetDepartureDate()
		r.ReturnCountry = req.GetReturnCountry()
		r.TravellingSubjectIds = make([]string, len(travellers))
		for i, p := range travellers {
			r.TravellingSubjectIds[i] = p.SubjectId
		}
		resp.Request = r
		return &commonv1.DepartureRecorded{
			CaseId:          r.CaseId,
			Mission:         r.Mission,
			Programme:       commonv1.Programme_PROGRAMME_HASM,
			DepartureDate:   r.DepartureDate,
			HostCountry:     r.HostCountry,
			ReturnCountry:   r.ReturnCountry,
			Travellers:      travellers,
			Vulnerabilities: c.vulnerabilities,
		}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// travelling picks the people of a case who travel: every one when ids is empty, else those
// named, who must be people of the case and include the principal.
func travelling(members []*commonv1.TravellingPerson, ids []string) ([]*commonv1.TravellingPerson, error) {
	if len(ids) == 0 {
		return members, nil
	}
	var v rpcerr.Violations
	for i, id := range ids {
		if !slices.ContainsFunc(members, func(m *commonv1.TravellingPerson) bool { return m.SubjectId == id }) {
			v.Add(fmt.Sprintf("travelling_subject_ids[%d]", i), "is not a person of the case")
		}
	}
	var out []*commonv1.TravellingPerson
	for _, m := range members {
		if slices.Contains(ids, m.SubjectId) {
			out = append(out, m)
		}
	}
	if len(members) > 0 && !slices.Contains(ids, members[0].SubjectId) {
		v.Add("travelling_subject_ids", "must include the principal applicant")
	}
	return out, v.Err()
}

// RecordArrival records the arrival in the return country: the return is completed.
func (s *Service) RecordArrival(ctx context.Context, req *hasmv1.RecordArrivalRequest) (*hasmv1.RecordArrivalResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var v rpcerr.Violations
	checkDay(&v, "arrival_date", req.GetArrivalDate(), s.clock())
	if err := v.Err(); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_RecordArrival_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.RecordArrivalResponse{}
	steps := s.stepKind(hasmv1.StrandedMigrantService_RecordArrival_FullMethodName)
	err = s.mutate(ctx, who, key, &steps, req.GetCaseId(), req.GetVersion(), true, resp, func(tx pgx.Tx, r *hasmv1.AssistanceRequest, _ *pgx.Batch) (proto.Message, error) {
		if err := checkTransition(r.Status, hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED); err != nil {
			return nil, err
		}
		if err := s.requireAssistance(ctx, tx, r, false); err != nil {
			return nil, err
		}
		if civildate.ToTime(req.GetArrivalDate()).Before(civildate.ToTime(r.DepartureDate)) {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("arrival_date", "must not be before the departure date"))
		}
		r.Status = hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED
		r.ArrivalDate = req.GetArrivalDate()
		resp.Request = r
		return &hasmv1.ArrivalRecorded{Request: r}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// CloseRequest ends a request before its return is completed. An approved request closed
// before departure gives its amount back to the fund, in the same transaction.
func (s *Service) CloseRequest(ctx context.Context, req *hasmv1.CloseRequestRequest) (*hasmv1.CloseRequestResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), hasmv1.StrandedMigrantService_CloseRequest_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &hasmv1.CloseRequestResponse{}
	ctx = audit.WithReason(ctx, req.GetReason().String())
	// Closing needs no consent: it is how a withdrawal is acted on.
	steps := s.stepKind(hasmv1.StrandedMigrantService_CloseRequest_FullMethodName)
	err = s.mutate(ctx, who, key, &steps, req.GetCaseId(), req.GetVersion(), false, resp, func(tx pgx.Tx, r *hasmv1.AssistanceRequest, b *pgx.Batch) (proto.Message, error) {
		if err := checkTransition(r.Status, hasmv1.RequestStatus_REQUEST_STATUS_CLOSED); err != nil {
			return nil, err
		}
		var released int64
		if r.Status == hasmv1.RequestStatus_REQUEST_STATUS_APPROVED {
			fund, err := getFund(ctx, tx, r.FundCode, r.FundYear, true)
			if err != nil {
				return nil, err
			}
			released = r.ApprovedAmount
			fund.Committed -= released
			fund.Remaining += released
			fund.UpdateTime = timestamppb.New(s.clock())
			queueUpdateFund(b, fund)
		}
		r.Status = hasmv1.RequestStatus_REQUEST_STATUS_CLOSED
		r.ClosureReason = req.GetReason()
		resp.Request = r
		return &hasmv1.RequestClosed{Request: r, ReleasedAmount: released}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// change applies a mutation to a locked request: it edits r in place, may queue extra
// writes on b, fills the response, and returns the event to record.
type change func(tx pgx.Tx, r *hasmv1.AssistanceRequest, b *pgx.Batch) (proto.Message, error)

// mutate runs one change to an existing request (mutation.Kind.Run: the row lock, the replay
// of a retried request, the version check, the request row, the outbox event, the audit and
// idempotency records in one transaction) as requests describes it: a step on the caller's
// own request (stepKind) or HQ's decision (decisionKind). With assistance, the change needs
// the principal's ASSISTANCE consent (apply checks it, requireAssistance), and any consent
// change intake committed for the case is applied first, so that a withdrawal takes effect at
// once.
func (s *Service) mutate(ctx context.Context, who auth.Claims, key idempotency.Key, requests *mutation.Kind[*hasmv1.AssistanceRequest],
	caseID string, version int64,
	assistance bool, resp proto.Message, apply change,
) error {
	id, err := parseCaseID(caseID)
	if err != nil {
		return err
	}
	if assistance {
		if err := s.catchUpConsent(ctx, id); err != nil {
			return err
		}
	}
	m := mutation.Mutation{Who: who, Key: key, Ref: caseID, Version: version, Resp: resp}
	return requests.Run(ctx, m, func(r *hasmv1.AssistanceRequest, st *mutation.Step) (proto.Message, error) {
		return apply(st.Tx, r, st.Batch)
	})
}

// decisionKind describes to mutation.Run HQ's decision on the request mission made for a case
// ("": the case's own mission's).
func (s *Service) decisionKind(mission string) mutation.Kind[*hasmv1.AssistanceRequest] {
	return s.kind(func(ctx context.Context, tx pgx.Tx, _ auth.Claims, id uuid.UUID) (*hasmv1.AssistanceRequest, error) {
		return getRequest(ctx, tx, mission, id, true)
	})
}

// stepKind describes to mutation.Run a field step (method) on the caller's own request of a
// case. The step belongs to a part (stepPart): when a hand-over gave that part to another
// mission, the caller is refused (handoverpart.Refusal). A caller that made no request for the
// case, but whose case's RECEPTION another mission holds, is refused the same way: the case's
// request is the receiving mission's.
func (s *Service) stepKind(method string) mutation.Kind[*hasmv1.AssistanceRequest] {
	return s.kind(func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*hasmv1.AssistanceRequest, error) {
		r, err := getRequest(ctx, tx, who.Mission, id, true)
		if errors.Is(err, errRequestNotFound) {
			// Refused if the caller finds the case and another mission holds the part; else
			// the request is not found.
			c, herr := getCase(ctx, tx, "", id)
			if herr == nil {
				part, _ := stepPart(method, false)
				herr = handedOver(ctx, tx, c.mission, who.Mission, id, part)
			}
			if herr != nil && !isCaseNotFound(herr) {
				return nil, herr
			}
		}
		if err != nil {
			return nil, err
		}
		c, err := getCase(ctx, tx, "", id)
		if err != nil {
			return nil, err
		}
		part, _ := stepPart(method, r.Mission == c.mission)
		if err := handedOver(ctx, tx, c.mission, who.Mission, id, part); err != nil {
			return nil, err
		}
		return r, nil
	})
}

// kind describes a request to mutation.Run; lock reads and locks the request a call changes.
func (s *Service) kind(lock func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*hasmv1.AssistanceRequest, error)) mutation.Kind[*hasmv1.AssistanceRequest] {
	return mutation.Kind[*hasmv1.AssistanceRequest]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse:   parseCaseID,
		Lock:    lock,
		Version: (*hasmv1.AssistanceRequest).GetVersion,
		Mission: (*hasmv1.AssistanceRequest).GetMission,
		Stale: func(caseID string, r *hasmv1.AssistanceRequest) error {
			return staleVersion("requests/"+caseID, r.GetVersion())
		},
		Save: func(r *hasmv1.AssistanceRequest, st *mutation.Step) {
			r.Version = st.Version
			r.UpdateTime = timestamppb.New(st.Now)
			queueUpdateRequest(st.Batch, r)
		},
	}
}

// parseCaseID parses a case id (rpcerr.ParseID).
func parseCaseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("case_id", s) }
