package intake

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/middleware"
)

const errorDomain = "passage.intake.v1"

// StaleVersionError is an update made against a version that is no longer current.
type StaleVersionError struct {
	CaseID  string
	Current int64
}

func (e *StaleVersionError) Error() string {
	return fmt.Sprintf("case is at version %d", e.Current)
}

// MissingConsentError is a purpose for which the person's consent is not recorded.
type MissingConsentError struct {
	Purpose string
}

func (e *MissingConsentError) Error() string {
	return fmt.Sprintf("consent for %s is missing", e.Purpose)
}

// errCaseNotFound is what a caller gets for a case that does not exist and for one of
// another mission alike, so that case ids of other missions cannot be probed.
var errCaseNotFound = status.Error(codes.NotFound, "case not found")

// toStatus maps the service's domain errors to gRPC status errors, in one place. Errors it
// does not know are returned as they are: the error-masking middleware turns them into an
// INTERNAL status without their text.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var (
		stale      *StaleVersionError
		transition *TransitionError
		consent    *MissingConsentError
	)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return errCaseNotFound
	case errors.Is(err, idempotency.ErrReused):
		return middleware.InvalidArgument(middleware.FieldViolation("request_id", idempotency.ErrReused.Error()))
	case errors.As(err, &stale):
		return withDetails(codes.FailedPrecondition,
			fmt.Sprintf("the case changed since it was read: it is at version %d", stale.Current),
			&errdetails.ErrorInfo{
				Reason:   "STALE_VERSION",
				Domain:   errorDomain,
				Metadata: map[string]string{"current_version": strconv.FormatInt(stale.Current, 10)},
			},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type:        "VERSION",
				Subject:     "cases/" + stale.CaseID,
				Description: "current version is " + strconv.FormatInt(stale.Current, 10),
			}}})
	case errors.As(err, &transition):
		return withDetails(codes.FailedPrecondition, transition.Error(),
			&errdetails.ErrorInfo{Reason: "INVALID_TRANSITION", Domain: errorDomain, Metadata: map[string]string{
				"from": code(transition.From, statusPrefix), "to": code(transition.To, statusPrefix),
			}},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: "STATUS", Subject: "status", Description: transition.Error(),
			}}})
	case errors.As(err, &consent):
		return withDetails(codes.FailedPrecondition, consent.Error(),
			&errdetails.ErrorInfo{Reason: "CONSENT_MISSING", Domain: errorDomain, Metadata: map[string]string{"purpose": consent.Purpose}},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: "CONSENT", Subject: consent.Purpose, Description: consent.Error(),
			}}})
	}
	return err
}

func withDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st := status.New(c, msg)
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}
