package staffdir

import (
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
)

// Member is one entry of the directory as every process keeps it: ids and codes, never the
// member's name.
type Member struct {
	StaffID string `json:"staff_id"`
	Mission string `json:"mission"`
	Role    string `json:"role"`
	Active  bool   `json:"active"`
	// ProvisionedBy is "claims" (added at their first call) or "admin".
	ProvisionedBy string `json:"provisioned_by"`
	Version       int64  `json:"version"`
	// lastSeen is when this process last knew the member to have called (the row's
	// last_seen_at, or this process's own touch).
	lastSeen time.Time
}

// Provisioning values of intake.staff_member.provisioned_by.
const (
	ProvisionedByClaims = "claims"
	ProvisionedByAdmin  = "admin"
)

// matches reports whether the token c names the member as the directory knows them.
func (m Member) matches(c auth.Claims) bool {
	return m.Mission == c.Mission && m.Role == string(c.Role)
}

// memberNamespace is the namespace of members' name-based ids.
var memberNamespace = uuid.MustParse("7d2b4c1e-5f0a-4e8b-9c3d-2a6f1b8e4d70")

// MemberID is the member staffID's id as an aggregate (audit records, idempotency keys,
// events): the name-based UUID (RFC 9562 version 5) of the staff id, so that it is computed,
// never looked up.
func MemberID(staffID string) uuid.UUID {
	return uuid.NewSHA1(memberNamespace, []byte(staffID))
}
