package staff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/staffdir"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

// member is one row of intake.staff_member. Mission stays the mission the member was in
// when locked, the one the change is audited in; a change that moves them sets NewMission.
type member struct {
	StaffID, Mission, Role, ProvisionedBy, DisplayName string
	NewMission                                         string
	Active                                             bool
	Version                                            int64
	Created, Updated                                   time.Time
	LastSeen, Deactivated                              *time.Time
}

// memberColumns are read into member.fields, in order.
const memberColumns = `staff_id, mission, role, provisioned_by, coalesce(display_name, ''), active, version,
  created_at, updated_at, last_seen_at, deactivated_at`

func (m *member) fields() []any {
	return []any{&m.StaffID, &m.Mission, &m.Role, &m.ProvisionedBy, &m.DisplayName, &m.Active, &m.Version,
		&m.Created, &m.Updated, &m.LastSeen, &m.Deactivated}
}

// lockMember reads member id and locks it until tx ends. tx is declared for the mission the
// call read the member in (see inMission): a member who moved since is errMoved.
func lockMember(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*member, error) {
	m := &member{}
	err := tx.QueryRow(ctx, `SELECT `+memberColumns+` FROM intake.staff_member WHERE member_id = $1 FOR UPDATE`, id).Scan(m.fields()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, database.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock staff member: %w", err)
	}
	if m.Mission != who.Mission {
		return nil, errMoved
	}
	m.NewMission = m.Mission
	return m, nil
}

// saveMember queues the member's update at the step's version and time. Mission stays the
// one locked: mutation.Kind audits the change there, in the transaction declared for it.
func saveMember(m *member, s *mutation.Step) {
	m.Version, m.Updated = s.Version, s.Now
	s.Batch.Queue(`UPDATE intake.staff_member SET mission = $2, role = $3, display_name = nullif($4, ''), active = $5,
  deactivated_at = $6, version = $7, updated_at = $8, provisioned_by = $9 WHERE staff_id = $1`,
		m.StaffID, m.NewMission, m.Role, m.DisplayName, m.Active, m.Deactivated, m.Version, m.Updated, m.ProvisionedBy)
}

// proto returns the member as the API gives it.
func (m *member) proto() *staffv1.StaffMember {
	mission := m.NewMission
	if mission == "" {
		mission = m.Mission
	}
	p := &staffv1.StaffMember{StaffId: m.StaffID, Mission: mission, Role: m.Role, Active: m.Active,
		DisplayName: m.DisplayName, Version: m.Version, CreateTime: timestamppb.New(m.Created), UpdateTime: timestamppb.New(m.Updated),
		Provisioning: staffv1.Provisioning_PROVISIONING_ADMIN}
	if m.ProvisionedBy == staffdir.ProvisionedByClaims {
		p.Provisioning = staffv1.Provisioning_PROVISIONING_CLAIMS
	}
	if m.LastSeen != nil {
		p.LastSeenTime = timestamppb.New(*m.LastSeen)
	}
	if m.Deactivated != nil {
		p.DeactivateTime = timestamppb.New(*m.Deactivated)
	}
	return p
}

// changed is the event of a member's change: ids and codes, never the name.
func (m *member) changed() *staffv1.StaffMemberChanged {
	return &staffv1.StaffMemberChanged{StaffId: m.StaffID, Mission: m.proto().GetMission(), Role: m.Role, Active: m.Active, Version: m.Version}
}
