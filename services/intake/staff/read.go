package staff

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/rpcerr"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

// defaultPageSize is ListStaff's page when the request names none.
const defaultPageSize = 100

// teamMission is the mission whose members who may read: a supervisor's own (asked is empty
// or theirs), an administrator's asked one (theirs when empty).
func teamMission(who auth.Claims, asked string) (string, error) {
	switch {
	case asked == "" || asked == who.Mission:
		return who.Mission, nil
	case who.Role != auth.RoleAdmin:
		return "", status.Error(codes.PermissionDenied, "mission: a supervisor lists their own mission's staff")
	}
	return asked, nil
}

// ListStaff lists a mission's members in staff id order, a page at a time; the page token is
// the last staff id of the previous page.
func (s *Service) ListStaff(ctx context.Context, req *staffv1.ListStaffRequest) (*staffv1.ListStaffResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	mission, err := teamMission(who, req.GetMission())
	if err != nil {
		return nil, err
	}
	if r := req.GetRole(); r != "" {
		if _, err := staffRole(r); err != nil {
			return nil, err
		}
	}
	after, err := base64.RawURLEncoding.DecodeString(req.GetPageToken())
	if err != nil {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", "not a token this service gave"))
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = defaultPageSize
	}
	rows, err := s.db.Mission(who.Mission).Query(ctx, `SELECT `+memberColumns+` FROM intake.staff_member
WHERE mission = $1 AND ($2 = '' OR role = $2) AND (active OR $3) AND staff_id > $4
ORDER BY staff_id LIMIT $5`, mission, req.GetRole(), req.GetIncludeInactive(), string(after), size+1)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	resp := &staffv1.ListStaffResponse{}
	var m member
	if _, err := pgx.ForEachRow(rows, m.fields(), func() error {
		resp.Members = append(resp.Members, m.proto())
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	if len(resp.Members) > size {
		resp.Members = resp.Members[:size]
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(resp.Members[size-1].GetStaffId()))
	}
	return resp, nil
}

// GetStaff reads one member: a supervisor only of their own mission.
func (s *Service) GetStaff(ctx context.Context, req *staffv1.GetStaffRequest) (*staffv1.GetStaffResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.read(ctx, who, req.GetStaffId())
	if err != nil {
		return nil, toStatus(err)
	}
	if who.Role != auth.RoleAdmin && m.Mission != who.Mission {
		return nil, errNotFound
	}
	return &staffv1.GetStaffResponse{Member: m.proto()}, nil
}

// read reads member staffID, or database.ErrNotFound.
func (s *Service) read(ctx context.Context, who auth.Claims, staffID string) (*member, error) {
	m := &member{}
	err := s.db.Mission(who.Mission).QueryRow(ctx, `SELECT `+memberColumns+` FROM intake.staff_member WHERE staff_id = $1`, staffID).Scan(m.fields()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, database.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read staff member: %w", err)
	}
	return m, nil
}
