package staffdir

import "github.com/passage-cm/passage/internal/envconfig"

// Mode is how the directory learns of staff (PASSAGE_STAFF_DIRECTORY).
type Mode string

const (
	// ModeClaims adds a staff member the directory does not know at their first call, with
	// the mission and role of their token, and follows a claims-provisioned member's token
	// to another mission or role. The default: `make run` and the tests need nothing.
	ModeClaims Mode = "claims"
	// ModeManaged admits only members an administrator (or the identity provider, through the
	// directory's API) provisioned: an unknown staff member, or a token whose mission or role
	// is not the directory's, is refused.
	ModeManaged Mode = "managed"
)

// UnmarshalText reads PASSAGE_STAFF_DIRECTORY.
func (m *Mode) UnmarshalText(b []byte) error {
	switch Mode(b) {
	case ModeClaims, ModeManaged:
		*m = Mode(b)
		return nil
	}
	return envconfig.Reason("want claims or managed")
}
