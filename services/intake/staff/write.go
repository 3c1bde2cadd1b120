package staff

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/staffdir"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

// staffRole is role as a member's role: any staff role, never partner.
func staffRole(role string) (auth.Role, error) {
	r, err := auth.ParseRole(role)
	if err != nil || r == auth.RolePartner {
		return "", rpcerr.InvalidArgument(rpcerr.FieldViolation("role", "must be caseworker, supervisor, programme_manager, analyst or admin"))
	}
	return r, nil
}

// inMission is the administrator who as the author of a change of a member of mission: the
// transaction is declared for that mission, and the change is audited in its chain, with
// who's subject and role.
func inMission(who auth.Claims, mission string) auth.Claims {
	who.Mission = mission
	return who
}

// ProvisionStaff adds a member (version 0) or changes one's mission, role and name.
func (s *Service) ProvisionStaff(ctx context.Context, req *staffv1.ProvisionStaffRequest) (*staffv1.ProvisionStaffResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	role, err := staffRole(req.GetRole())
	if err != nil {
		return nil, err
	}
	if !auth.ValidMission(role, req.GetMission()) {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("mission", "must be a mission code (NER, NER-AGADEZ), or HQ for an HQ role"))
	}
	resp := &staffv1.ProvisionStaffResponse{}
	if req.GetVersion() == 0 {
		if err := s.add(ctx, who, role, req, resp); err != nil {
			return nil, toStatus(err)
		}
		s.settled(ctx, resp.GetMember())
		return resp, nil
	}
	err = s.change(ctx, &s.members, who, req.GetStaffId(), req.GetRequestId(), req.GetVersion(), staffv1.StaffService_ProvisionStaff_FullMethodName, req, resp,
		func(a *member, st *mutation.Step) (proto.Message, error) {
			a.NewMission, a.Role, a.DisplayName = req.GetMission(), string(role), req.GetDisplayName()
			// Provisioned by an administrator from now on: a token no longer moves them.
			a.ProvisionedBy = staffdir.ProvisionedByAdmin
			a.Version, a.Updated = st.Version, st.Now
			resp.Member = a.proto()
			return a.changed(), nil
		})
	if err != nil {
		return nil, toStatus(err)
	}
	s.settled(ctx, resp.GetMember())
	return resp, nil
}

// add provisions a new member ahead of their first sign-in, active.
func (s *Service) add(ctx context.Context, who auth.Claims, role auth.Role, req *staffv1.ProvisionStaffRequest, resp *staffv1.ProvisionStaffResponse) error {
	author := inMission(who, req.GetMission())
	key, err := idempotency.NewKey(s.keys, author.Mission, req.GetRequestId(), staffv1.StaffService_ProvisionStaff_FullMethodName, req)
	if err != nil {
		return err
	}
	now := s.clock()
	m := &member{StaffID: req.GetStaffId(), Mission: req.GetMission(), NewMission: req.GetMission(), Role: string(role),
		ProvisionedBy: staffdir.ProvisionedByAdmin, DisplayName: req.GetDisplayName(), Active: true, Version: 1, Created: now, Updated: now}
	resp.Member = m.proto()
	err = s.creator.Create(ctx, mutation.New{Who: author, Key: key, ID: staffdir.MemberID(m.StaffID), Mission: m.Mission, Resp: resp},
		func(b *pgx.Batch) (proto.Message, error) {
			b.Queue(`INSERT INTO intake.staff_member (staff_id, member_id, mission, role, active, provisioned_by, display_name, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, true, 'admin', nullif($5, ''), 1, $6, $6)`, m.StaffID, staffdir.MemberID(m.StaffID), m.Mission, m.Role, m.DisplayName, now)
			return m.changed(), nil
		})
	if database.IsUniqueViolation(err, "staff_member_pkey") {
		return errExists
	}
	return err
}

// DeactivateStaff makes a member a leaver and ends their case assignments in their mission.
func (s *Service) DeactivateStaff(ctx context.Context, req *staffv1.DeactivateStaffRequest) (*staffv1.DeactivateStaffResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	// The member's cases' assignment locks are taken before the member's row (see
	// Assignments.LockAssignments).
	leavers := s.members
	leavers.Lock = func(ctx context.Context, tx pgx.Tx, author auth.Claims, id uuid.UUID) (*member, error) {
		if err := s.assignments.LockAssignments(ctx, tx, author.Mission, req.GetStaffId()); err != nil {
			return nil, err
		}
		return lockMember(ctx, tx, author, id)
	}
	resp := &staffv1.DeactivateStaffResponse{}
	err = s.change(ctx, &leavers, who, req.GetStaffId(), req.GetRequestId(), req.GetVersion(), staffv1.StaffService_DeactivateStaff_FullMethodName, req, resp,
		func(a *member, st *mutation.Step) (proto.Message, error) {
			setActive(a, false, st)
			n, err := s.assignments.EndAssignments(ctx, st.Tx, st.Batch, inMission(who, a.Mission), a.Mission, a.StaffID)
			if err != nil {
				return nil, err
			}
			resp.Member, resp.UnassignedCases = a.proto(), int32(n)
			return a.changed(), nil
		})
	if err != nil {
		return nil, toStatus(err)
	}
	s.settled(ctx, resp.GetMember())
	return resp, nil
}

// ReactivateStaff makes a deactivated member active again.
func (s *Service) ReactivateStaff(ctx context.Context, req *staffv1.ReactivateStaffRequest) (*staffv1.ReactivateStaffResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	resp := &staffv1.ReactivateStaffResponse{}
	err = s.change(ctx, &s.members, who, req.GetStaffId(), req.GetRequestId(), req.GetVersion(), staffv1.StaffService_ReactivateStaff_FullMethodName, req, resp,
		func(a *member, st *mutation.Step) (proto.Message, error) {
			setActive(a, true, st)
			resp.Member = a.proto()
			return a.changed(), nil
		})
	if err != nil {
		return nil, toStatus(err)
	}
	s.settled(ctx, resp.GetMember())
	return resp, nil
}

// change runs fn as who's change of member staffID at the version they read, by kind:
// idempotent by requestID and audited in the mission the member is in (inMission).
func (s *Service) change(ctx context.Context, kind *mutation.Kind[*member], who auth.Claims, staffID, requestID string, version int64,
	method string, req, resp proto.Message, fn mutation.Change[*member],
) error {
	current, err := s.read(ctx, who, staffID)
	if err != nil {
		return err
	}
	author := inMission(who, current.Mission)
	key, err := idempotency.NewKey(s.keys, author.Mission, requestID, method, req)
	if err != nil {
		return err
	}
	return kind.Run(ctx, mutation.Mutation{Who: author, Key: key, Ref: staffID, Version: version, Resp: resp}, fn)
}

// setActive makes a deactivated member active, or an active one inactive (active false), at
// st's version and time. A member already in the state asked for keeps it (and their
// deactivation time), at the new version.
func setActive(a *member, active bool, st *mutation.Step) {
	if a.Active != active {
		a.Active = active
		a.Deactivated = nil
		if !active {
			a.Deactivated = &st.Now
		}
	}
	a.Version, a.Updated = st.Version, st.Now
}
