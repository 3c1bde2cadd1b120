package auth

import (
	"context"
	"regexp"
	"time"
)

// MissionHQ is the mission claim of staff at headquarters rather than in a
// country mission. Only HQ roles (see Role.IsHQ) may carry it.
const MissionHQ = "HQ"

// missionPattern is an ISO 3166-1 alpha-3 country code with an optional
// sub-office suffix, e.g. "NER" or "NER-AGADEZ".
var missionPattern = regexp.MustCompile(`^[A-Z]{3}(-[A-Z0-9]{2,16})?$`)

// ValidMission reports whether staff of role r may belong to mission m: HQ only for HQ
// roles, otherwise a mission code ("NER", "NER-AGADEZ").
func ValidMission(r Role, m string) bool { return validMission(r, m) }

// validMission reports whether a caller with role r may carry mission m.
func validMission(r Role, m string) bool {
	if m == MissionHQ {
		return r.IsHQ()
	}
	return missionPattern.MatchString(m)
}

// Claims is the verified identity of a caller. It holds no personal data: the
// subject is a pseudonymous staff id issued by the identity provider.
type Claims struct {
	Subject string // pseudonymous staff id
	Role    Role
	Mission string // mission code, or MissionHQ; may be empty for a partner
	// Partner is the partner agency's id (the referral registry's partner_id, a UUID) on a
	// token of role partner; empty for staff.
	Partner   string
	ExpiresAt time.Time
}

// partnerPattern is a partner id: a UUID in its canonical lower-case form.
var partnerPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validPartner reports whether a caller with role r may carry partner claim p: only a partner
// names a partner, and only by its id.
func validPartner(r Role, p string) bool {
	if p == "" {
		return true
	}
	return r == RolePartner && partnerPattern.MatchString(p)
}

// InMission reports whether the caller belongs to mission m. The match is
// exact on purpose: HQ roles do not get another mission's case data through
// this check; aggregate HQ access is granted elsewhere, explicitly.
func (c Claims) InMission(m string) bool {
	return m != "" && c.Mission == m
}

type claimsKey struct{}

// WithClaims returns a context carrying c.
func WithClaims(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromContext returns the Claims put in ctx by the auth interceptors, and
// false when the call was not authenticated (for example a public method).
func FromContext(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// Caller returns the authenticated caller of a handler. The interceptors guarantee one for
// every method in the Policy, so its absence is a wiring fault: the client gets the same
// UNAUTHENTICATED status as for a bad token, and no detail.
func Caller(ctx context.Context) (Claims, error) {
	c, ok := FromContext(ctx)
	if !ok {
		return Claims{}, errUnauthenticated
	}
	return c, nil
}
