package followup

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/staffdir"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// ListFollowUps lists the caller's mission's follow-ups in the request's scope, soonest due
// first.
func (s *Service) ListFollowUps(ctx context.Context, req *followupv1.ListFollowUpsRequest) (*followupv1.ListFollowUpsResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	f := listFilter{mission: who.Mission, state: req.GetState(), caseID: req.GetCaseId(), limit: pagetoken.Size(req.GetPageSize())}
	var v rpcerr.Violations
	if (req.GetScope() == followupv1.Scope_SCOPE_STAFF) != (req.GetStaffSubject() != "") {
		v.Add("staff_subject", "is required with SCOPE_STAFF and empty otherwise")
	}
	switch req.GetScope() {
	case followupv1.Scope_SCOPE_STAFF:
		if who.Role != auth.RoleSupervisor {
			return nil, status.Error(codes.PermissionDenied, "scope: only supervisors list another staff member's follow-ups")
		}
		f.staff = req.GetStaffSubject()
	case followupv1.Scope_SCOPE_UNASSIGNED:
		f.owner = ownedByNobody
	case followupv1.Scope_SCOPE_MISSION:
		f.owner = ownedByAnyone
	default:
		f.staff = who.Subject
	}
	if p := req.GetProgramme(); p != commonv1.Programme_PROGRAMME_UNSPECIFIED {
		f.programme = programmeCode(p)
	}
	if d := req.GetDueBefore(); d != nil {
		if err := civildate.CheckFull(d); err != nil {
			v.Add("due_before", err.Error())
		} else {
			f.dueBefore = new(civildate.ToTime(d))
		}
	}
	filter := pagetoken.Filter(fmt.Sprintf("%s|%d|%d|%s|%d|%s|%v|%s", who.Mission, req.GetScope(), f.owner, f.staff,
		req.GetState(), f.programme, f.dueBefore, f.caseID))
	if tok := req.GetPageToken(); tok != "" {
		if f.after, err = pagetoken.Decode(tok, filter); err != nil {
			v.Add("page_token", pagetoken.Mismatch)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Read one more than a page to know whether another page follows.
	f.limit++
	q := s.db.Mission(who.Mission)
	list, err := listFollowUps(ctx, q, f, s.today())
	if err != nil {
		return nil, err
	}
	// A case the mission has no follow-up of is NOT_FOUND, as one of another mission is: the
	// two cannot be told apart.
	if len(list) == 0 && f.caseID != "" && f.after == nil {
		var known bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM followup.follow_up WHERE case_id = $1)`, f.caseID).Scan(&known); err != nil {
			return nil, fmt.Errorf("list follow-ups: %w", err)
		}
		if !known {
			return nil, errCaseNotFound
		}
	}
	resp := &followupv1.ListFollowUpsResponse{FollowUps: list}
	if len(list) == f.limit {
		resp.FollowUps = list[:f.limit-1]
		last := resp.FollowUps[len(resp.FollowUps)-1]
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{
			Time: civildate.ToTime(last.GetDueDate()), ID: uuid.MustParse(last.GetFollowUpId()),
		}, filter)
	}
	return resp, nil
}

// GetFollowUp reads one follow-up of the caller's mission.
func (s *Service) GetFollowUp(ctx context.Context, req *followupv1.GetFollowUpRequest) (*followupv1.GetFollowUpResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseID(req.GetFollowUpId())
	if err != nil {
		return nil, err
	}
	f, err := getFollowUp(ctx, s.db.Mission(who.Mission), id, s.today(), false)
	if err != nil {
		return nil, toStatus(err)
	}
	return &followupv1.GetFollowUpResponse{FollowUp: f}, nil
}

// CloseFollowUp closes an open follow-up, done or not needed, as the caller.
func (s *Service) CloseFollowUp(ctx context.Context, req *followupv1.CloseFollowUpRequest) (*followupv1.CloseFollowUpResponse, error) {
	resp := &followupv1.CloseFollowUpResponse{}
	if (req.GetOutcome() == followupv1.Outcome_OUTCOME_NOT_NEEDED) !=
		(req.GetNotNeededReason() != followupv1.NotNeededReason_NOT_NEEDED_REASON_UNSPECIFIED) {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("not_needed_reason", "is required with OUTCOME_NOT_NEEDED and unset otherwise"))
	}
	err := s.change(ctx, req, followupv1.FollowUpService_CloseFollowUp_FullMethodName, resp,
		func(who auth.Claims, f *followupv1.FollowUp, st *mutation.Step) (proto.Message, error) {
			if f.GetState() != followupv1.FollowUpState_FOLLOW_UP_STATE_OPEN {
				return nil, closedError("closed")
			}
			f.State = followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED
			f.Outcome, f.NotNeededReason = req.GetOutcome(), req.GetNotNeededReason()
			f.ClosedDate, f.ClosedBy, f.Overdue = civildate.FromTime(st.Now), who.Subject, false
			resp.FollowUp = f
			return &followupv1.FollowUpClosed{FollowUp: f}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// AssignFollowUp assigns an open follow-up to a staff member.
func (s *Service) AssignFollowUp(ctx context.Context, req *followupv1.AssignFollowUpRequest) (*followupv1.AssignFollowUpResponse, error) {
	resp := &followupv1.AssignFollowUpResponse{}
	err := s.change(ctx, req, followupv1.FollowUpService_AssignFollowUp_FullMethodName, resp,
		func(_ auth.Claims, f *followupv1.FollowUp, st *mutation.Step) (proto.Message, error) {
			if f.GetState() != followupv1.FollowUpState_FOLLOW_UP_STATE_OPEN {
				return nil, closedError("assigned")
			}
			// Only an active member of the follow-up's mission works on it.
			if err := staffdir.CheckAssignee(ctx, st.Tx, f.GetMission(), req.GetAssignee(), "assignee", false); err != nil {
				return nil, err
			}
			previous := f.GetAssignee()
			f.Assignee = req.GetAssignee()
			resp.FollowUp = f
			return &followupv1.FollowUpAssigned{FollowUp: f, PreviousAssignee: previous}, nil
		})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
