package auth

import (
	"fmt"
	"slices"
)

// Role is what a caller may do, carried in the token's "role" claim.
type Role string

// The roles known to Passage. Field staff (caseworkers, supervisors) work in
// one mission; programme managers, analysts and admins sit at HQ.
const (
	RoleCaseworker       Role = "caseworker"
	RoleSupervisor       Role = "supervisor"
	RoleProgrammeManager Role = "programme_manager"
	RoleAnalyst          Role = "analyst"
	RolePartner          Role = "partner"
	RoleAdmin            Role = "admin"
)

var allRoles = []Role{
	RoleCaseworker,
	RoleSupervisor,
	RoleProgrammeManager,
	RoleAnalyst,
	RolePartner,
	RoleAdmin,
}

// AllRoles returns every known role, in a stable order.
func AllRoles() []Role { return slices.Clone(allRoles) }

// ParseRole returns the Role named by s, or an error if s is not a known role.
// Matching is exact: "Admin" is not "admin".
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(allRoles, r) {
		return "", fmt.Errorf("auth: unknown role %q", s)
	}
	return r, nil
}

// IsHQ reports whether r is a headquarters role, the only roles that may carry
// the mission MissionHQ.
func (r Role) IsHQ() bool {
	switch r {
	case RoleProgrammeManager, RoleAnalyst, RoleAdmin:
		return true
	}
	return false
}
