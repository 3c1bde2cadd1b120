package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Code is a purpose's code, as stored and as named in errors: its name without the enum's
// prefix ("ASSISTANCE").
func Code(p commonv1.ConsentPurpose) string {
	return enumcode.Code(p)
}

// basedOnConsent reports whether a record rests on the person's consent (the default).
func basedOnConsent(c *commonv1.Consent) bool {
	b := c.GetLegalBasis()
	return b == commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED || b == commonv1.LegalBasis_LEGAL_BASIS_CONSENT
}

// scope is what a record decides for: a person, a purpose and, for data sharing, a partner
// or a partner category. A later record for the same scope supersedes an earlier one.
type scope struct {
	subject  string
	purpose  commonv1.ConsentPurpose
	partner  string
	category commonv1.PartnerCategory
}

func scopeOf(c *commonv1.Consent) scope {
	return scope{c.GetSubjectId(), c.GetPurpose(), c.GetPartner(), c.GetPartnerCategory()}
}

// SameScope reports whether two records decide for the same person, purpose and partner.
func SameScope(a, b *commonv1.Consent) bool {
	return scopeOf(a) == scopeOf(b)
}

// Derive sets InForce on every record of a case's history, given oldest first: a record is
// in force when no later record has its scope, it was not withdrawn, and it grants consent or
// states a legal basis other than consent.
func Derive(history []*commonv1.Consent) {
	latest := make(map[scope]int, len(history))
	for i, c := range history {
		latest[scopeOf(c)] = i
	}
	for i, c := range history {
		c.InForce = latest[scopeOf(c)] == i && c.GetWithdrawal() == nil && (c.GetGranted() || !basedOnConsent(c))
	}
}

// Allowed reports whether a record in force allows purpose for the person subject. Derive
// must have run on history.
func Allowed(history []*commonv1.Consent, subject string, purpose commonv1.ConsentPurpose) bool {
	for _, c := range history {
		if c.GetInForce() && c.GetSubjectId() == subject && c.GetPurpose() == purpose {
			return true
		}
	}
	return false
}

// Mark sets in_statistics and assistance_allowed on every person of a case from its consent
// history (after Derive).
func Mark(c *intakev1.Case) {
	for _, m := range append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...) {
		if m != nil {
			m.InStatistics = Allowed(c.GetConsents(), m.GetSubjectId(), commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS)
			m.AssistanceAllowed = MemberAssistanceAllowed(c, m.GetSubjectId())
		}
	}
}

// MemberAssistanceAllowed says whether a person of the case may be assisted (travel, receive
// reintegration assistance). The principal applicant's ASSISTANCE consent speaks for the
// household, as the applicant signs for their dependants; a member who has a consent record
// of their own for ASSISTANCE is bound by it instead, so an adult member who refuses or
// withdraws is not assisted, whatever the principal decided.
func MemberAssistanceAllowed(c *intakev1.Case, subject string) bool {
	for _, r := range c.GetConsents() {
		if r.GetSubjectId() == subject && r.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE {
			return Allowed(c.GetConsents(), subject, commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE)
		}
	}
	return AssistanceAllowed(c)
}

// AssistanceAllowed reports whether a case's assistance may go on: the principal applicant's
// ASSISTANCE is allowed by a record in force. It reads the in_force flags intake set.
func AssistanceAllowed(c *intakev1.Case) bool {
	return Allowed(c.GetConsents(), c.GetSubjectId(), commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE)
}

// MissingError is a purpose for which no consent record is in force.
type MissingError struct {
	Purpose commonv1.ConsentPurpose
	// SubjectID is the person whose consent is missing, when it is not the principal's (a
	// random subject id, never a name).
	SubjectID string
}

func (e *MissingError) Error() string {
	if e.SubjectID != "" {
		return fmt.Sprintf("no consent or legal basis for %s is in force for subject %s", Code(e.Purpose), e.SubjectID)
	}
	return fmt.Sprintf("no consent or legal basis for %s is in force", Code(e.Purpose))
}

// Status is the error a client gets for a purpose without consent: FAILED_PRECONDITION with
// an ErrorInfo (reason CONSENT_MISSING, metadata purpose) and a PreconditionFailure violation
// of type CONSENT whose subject is the purpose's code. domain is the service's error domain.
func (e *MissingError) Status(domain string) error {
	code := Code(e.Purpose)
	return rpcerr.FailedPrecondition(domain, "CONSENT_MISSING", e.Error(), map[string]string{"purpose": code},
		rpcerr.Violation("CONSENT", code, e.Error()))
}

// Events are the intake events that change a case's consents; a programme service's
// consumer applies them like any other case event (each carries the whole case).
var Events = []string{
	string(proto.MessageName(&intakev1.ConsentRecorded{})),
	string(proto.MessageName(&intakev1.ConsentWithdrawn{})),
}

// ErrNotCaughtUp is a consent change committed in intake (or, through CatchUpOn, another change
// of the case) that the service could not apply in time (a long transaction elsewhere holds
// the outbox horizon). The caller must refuse the operation (UNAVAILABLE, safe to retry)
// rather than act on consent it may have lost.
var ErrNotCaughtUp = errors.New("consent: a change of the case's consent is not applied yet")

// CatchUp makes "withdrawal takes effect at once" true for a programme service: before it acts
// on a case, any consent event intake committed for that case and the consumer has not
// applied yet is applied now. The look-up costs one indexed query past the cursor; the drain
// runs only when such an event exists. Should the event stay out of reach for wait, it
// returns ErrNotCaughtUp: the service fails closed.
func CatchUp(ctx context.Context, c *outbox.Consumer, caseID uuid.UUID, wait time.Duration) error {
	return CatchUpOn(ctx, c, caseID, wait, Events)
}

// CatchUpOn is CatchUp for the events of types about the case, for a service that must not
// act ahead of other changes of the case besides its consents (handoverpart.CatchUp).
func CatchUpOn(ctx context.Context, c *outbox.Consumer, caseID uuid.UUID, wait time.Duration, types []string) error {
	behind, err := c.Behind(ctx, caseID, types)
	if err != nil || !behind {
		return err
	}
	if err := c.CatchUpOn(ctx, caseID, wait); err != nil {
		return err
	}
	if behind, err = c.Behind(ctx, caseID, types); err != nil {
		return err
	}
	if behind {
		return ErrNotCaughtUp
	}
	return nil
}

// StatusOf maps the package's errors found in err's chain to the status a client gets: a
// MissingError to FAILED_PRECONDITION naming the consent, ErrNotCaughtUp to UNAVAILABLE (safe
// to retry). It returns nil for any other error. domain is the service's error domain.
func StatusOf(domain string, err error) error {
	var missing *MissingError
	switch {
	case errors.As(err, &missing):
		return missing.Status(domain)
	case errors.Is(err, ErrNotCaughtUp):
		return status.Error(codes.Unavailable, "a consent change for the case is still being applied: retry")
	}
	return nil
}
