package staffdir

import (
	"time"

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
