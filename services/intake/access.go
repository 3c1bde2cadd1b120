package intake

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

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/staffdir"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Who reads identity. Identity is decrypted only for staff who work on the case: the one who
// registered it (intake."case".created_by) and those a supervisor assigned to it. The role
// alone opens nothing: a supervisor who does not work on a case, like a caseworker of the
// mission, sees its coded record, and reads its identity only under a break-glass grant
// (breakglass.go), which is short-lived, reasoned and reviewed. A victim of trafficking's
// case is protected by the same rule: only its own caseworkers read the name.

// caseAccess is what gives a caller the identity of one case.
type caseAccess struct {
	worksOn  bool // the creator, or assigned
	assigned bool // assigned by a supervisor of the caller's mission
	grant    bool // a live break-glass grant
}

// readAccess reads the caller's access to a case their mission sees (its own, or one shared
// with it), at time now. Only the caller's mission's facts count: the creator of the mission's
// own case, and the mission's own assignments and break-glass grants (a receiving mission's
// are its own rows, and the owner's are not the receiver's, nor the other way round).
func readAccess(ctx context.Context, q database.Querier, who auth.Claims, id uuid.UUID, now time.Time) (caseAccess, error) {
	access, err := readAccesses(ctx, q, who, []uuid.UUID{id}, now)
	if err != nil {
		return caseAccess{}, err
	}
	a, ok := access[id]
	if !ok {
		return caseAccess{}, database.ErrNotFound
	}
	return a, nil
}

// readAccesses reads the caller's access to each of a list of cases (readAccess's rule), in
// one query; a case the mission does not see is absent from the map.
func readAccesses(ctx context.Context, q database.Querier, who auth.Claims, ids []uuid.UUID, now time.Time) (map[uuid.UUID]caseAccess, error) {
	rows, err := q.Query(ctx, `SELECT c.case_id,
    c.mission = $2 AND c.created_by = $3,
    EXISTS (SELECT 1 FROM intake.case_assignment a WHERE a.case_id = c.case_id AND a.mission = $2 AND a.staff_id = $3),
    EXISTS (SELECT 1 FROM intake.break_glass_grant g
            WHERE g.case_id = c.case_id AND g.mission = $2 AND g.grantee = $3 AND g.expires_at > $4)
FROM intake."case" c WHERE c.case_id = ANY($1)`, ids, who.Mission, who.Subject, now)
	if err != nil {
		return nil, fmt.Errorf("read case access: %w", err)
	}
	out := make(map[uuid.UUID]caseAccess, len(ids))
	var id uuid.UUID
	var created bool
	var a caseAccess
	if _, err := pgx.ForEachRow(rows, []any{&id, &created, &a.assigned, &a.grant}, func() error {
		a.worksOn = created || a.assigned
		out[id] = a
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read case access: %w", err)
	}
	return out, nil
}

// checkIdentityAccess decides whether a caller with access a may read identity for purpose.
// The purpose is part of the decision, not a label: a break-glass grant is for emergencies,
// so reads under it must say so, and no one can claim an emergency without a grant.
func checkIdentityAccess(a caseAccess, purpose commonv1.AccessPurpose) error {
	if purpose == commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS {
		if !a.grant {
			return status.Error(codes.PermissionDenied, "purpose: ACCESS_PURPOSE_BREAK_GLASS needs a live break-glass grant on this case")
		}
		return nil
	}
	if a.worksOn {
		return nil
	}
	if a.grant {
		return status.Error(codes.PermissionDenied, "purpose: reads under a break-glass grant must state ACCESS_PURPOSE_BREAK_GLASS")
	}
	return status.Error(codes.PermissionDenied, "case_id: identity is read only by staff working on the case, or under a break-glass grant")
}

// checkWorksOn refuses a caller who does not work on the case, inside tx (declared for the
// caller's mission).
func (s *Service) checkWorksOn(ctx context.Context, tx pgx.Tx, who auth.Claims, caseID string) error {
	a, err := readAccess(ctx, tx, who, uuid.MustParse(caseID), s.clock())
	if err != nil {
		return err
	}
	if !a.worksOn {
		return status.Error(codes.PermissionDenied, "update_mask: only staff working on the case may replace its identity")
	}
	return nil
}

// AssignCase lets a staff member of the mission work on a case.
func (s *Service) AssignCase(ctx context.Context, req *intakev1.AssignCaseRequest) (*intakev1.AssignCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetStaffId() == who.Subject {
		// Otherwise a supervisor would open any case without the grant's review.
		return nil, status.Error(codes.PermissionDenied, "staff_id: a supervisor cannot assign a case to themselves; use BreakGlass")
	}
	if _, err := parseCaseID(req.GetCaseId()); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_AssignCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.AssignCaseResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetCaseId(), Resp: resp}
	err = s.assignments.Run(ctx, m, func(c lockedCase, st *mutation.Step) (proto.Message, error) {
		tx, id := st.Tx, c.id
		// Only an active member of the mission the assignment is in (the case's own, or the
		// mission it is shared with) works on its cases.
		if err := staffdir.CheckAssignee(ctx, tx, c.mission, req.GetStaffId(), "staff_id", true); err != nil {
			return nil, err
		}
		a := &intakev1.CaseAssignment{CaseId: id.String(), StaffId: req.GetStaffId()}
		var at time.Time
		// An existing assignment is kept as it was: who assigned it first, and when.
		err := tx.QueryRow(ctx, `WITH ins AS (
  INSERT INTO intake.case_assignment (mission, case_id, staff_id, assigned_by, assigned_at)
  VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, staff_id) DO NOTHING
  RETURNING assigned_by, assigned_at)
SELECT assigned_by, assigned_at FROM ins
UNION ALL
SELECT assigned_by, assigned_at FROM intake.case_assignment WHERE case_id = $2 AND staff_id = $3
LIMIT 1`, who.Mission, id, req.GetStaffId(), who.Subject, st.Now).Scan(&a.AssignedBy, &at)
		if err != nil {
			return nil, fmt.Errorf("assign case: %w", err)
		}
		a.AssignTime = timestamppb.New(at)
		resp.Assignment = a
		return assignmentChanged(ctx, tx, c, req.GetStaffId(), true)
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// UnassignCase takes a case away from a staff member a supervisor assigned it to.
func (s *Service) UnassignCase(ctx context.Context, req *intakev1.UnassignCaseRequest) (*intakev1.UnassignCaseResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := parseCaseID(req.GetCaseId()); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), intakev1.IntakeService_UnassignCase_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.UnassignCaseResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetCaseId(), Resp: resp}
	err = s.assignments.Run(ctx, m, func(c lockedCase, st *mutation.Step) (proto.Message, error) {
		tx, id := st.Tx, c.id
		if c.handover == uuid.Nil {
			var createdBy string
			if err := tx.QueryRow(ctx, `SELECT created_by FROM intake."case" WHERE case_id = $1`, id).Scan(&createdBy); err != nil {
				return nil, fmt.Errorf("case creator: %w", err)
			}
			if createdBy == req.GetStaffId() {
				return nil, status.Error(codes.FailedPrecondition, "staff_id: the staff member who registered the case keeps it")
			}
		}
		// Not assigned is already the state asked for: nothing to do, and no error.
		if _, err := tx.Exec(ctx, `DELETE FROM intake.case_assignment WHERE case_id = $1 AND staff_id = $2 AND mission = $3`,
			id, req.GetStaffId(), c.mission); err != nil {
			return nil, fmt.Errorf("unassign case: %w", err)
		}
		resp.CaseId, resp.StaffId = id.String(), req.GetStaffId()
		return assignmentChanged(ctx, tx, c, req.GetStaffId(), false)
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// lockedCase is a case whose access in a mission changes (who works on it, break-glass
// grants). The mission's own case is held FOR SHARE: the case's own changes and its access
// changes take turns, its access changes do not. A case shared with the mission (handover is
// then the hand-over it rests on) is not locked: the receiver changes only its own rows.
type lockedCase struct {
	id       uuid.UUID
	mission  string
	handover uuid.UUID
}

// lockCase locks a case of the mission against concurrent changes for the transaction, or
// finds the live share of another mission's case with it (lockShare), or reports it not found.
func lockCase(ctx context.Context, tx pgx.Tx, mission string, id uuid.UUID) (lockedCase, error) {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM intake."case" WHERE case_id = $1 AND mission = $2 FOR SHARE`, id, mission).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return lockShare(ctx, tx, mission, id)
	}
	return lockedCase{id: id, mission: mission}, err
}

// assignmentChanged reads the case's assignees in the mission as the change leaves them,
// inside tx, and returns the event that publishes the change (under that mission: for a case
// shared with it, the receiving mission's, whose follow-ups its assignees then work).
func assignmentChanged(ctx context.Context, tx pgx.Tx, c lockedCase, staffID string, assigned bool) (proto.Message, error) {
	rows, err := tx.Query(ctx, `SELECT staff_id FROM intake.case_assignment WHERE case_id = $1 AND mission = $2 ORDER BY staff_id`,
		c.id, c.mission)
	if err != nil {
		return nil, fmt.Errorf("case assignees: %w", err)
	}
	assignees, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("case assignees: %w", err)
	}
	return &intakev1.CaseAssignmentChanged{CaseId: c.id.String(), Mission: c.mission, StaffId: staffID,
		Assigned: assigned, Assignees: assignees}, nil
}

// assignmentKind describes who works on a case to mutation.Run (AssignCase, UnassignCase):
// it has no version, and each change is audited on the case and published
// (CaseAssignmentChanged). Besides the case's shared lock (lockCase), the changes of one
// case's assignments take turns on a transaction-scoped advisory lock, taken before anything
// else so that the transaction's id, which orders the outbox, is given after the previous
// change committed: the events' assignees then follow one another in the order a consumer
// reads them.
func (s *Service) assignmentKind() mutation.Kind[lockedCase] {
	k := s.accessKind()
	k.Lock = func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (lockedCase, error) {
		if err := lockAssignments(ctx, tx, id); err != nil {
			return lockedCase{}, err
		}
		return lockCase(ctx, tx, who.Mission, id)
	}
	return k
}

// accessKind describes a case's break-glass access to mutation.Run: it has no version, and
// its changes are audited (on the case), not published.
func (s *Service) accessKind() mutation.Kind[lockedCase] {
	return mutation.Kind[lockedCase]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: parseCaseID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (lockedCase, error) {
			return lockCase(ctx, tx, who.Mission, id)
		},
		Mission: func(c lockedCase) string { return c.mission },
		Await:   s.awaitShare,
	}
}

// errNotInMission is a list of another mission than the caller's.
var errNotInMission = status.Error(codes.PermissionDenied, "mission: only the caller's mission can be listed")

// missionOf resolves a list request's mission: empty means the caller's; another is refused.
func missionOf(who auth.Claims, requested string) (string, error) {
	if requested == "" {
		requested = who.Mission
	}
	if !who.InMission(requested) {
		return "", errNotInMission
	}
	return requested, nil
}

// purposeViolation is a FULL read without a stated purpose.
func purposeViolation() error {
	return rpcerr.InvalidArgument(rpcerr.FieldViolation("purpose", "is required with CASE_VIEW_FULL"))
}
