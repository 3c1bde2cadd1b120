package returns

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

const errorDomain = "passage.returns.v1"

// StaleVersionError is a change made against a version that is no longer current.
type StaleVersionError struct {
	CaseID  string
	Current int64
}

func (e *StaleVersionError) Error() string {
	return fmt.Sprintf("return is at version %d", e.Current)
}

// errCaseNotFound is what a caller gets for a case that does not exist, one of another
// mission and one of another programme alike, so that none can be probed.
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
		stale       *StaleVersionError
		transition  *TransitionError
		requirement *RequirementError
		rule        *RuleError
	)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return errCaseNotFound
	case errors.Is(err, idempotency.ErrReused):
		return middleware.InvalidArgument(middleware.FieldViolation("request_id", idempotency.ErrReused.Error()))
	case errors.As(err, &stale):
		return withDetails(codes.FailedPrecondition,
			fmt.Sprintf("the return changed since it was read: it is at version %d", stale.Current),
			&errdetails.ErrorInfo{
				Reason:   "STALE_VERSION",
				Domain:   errorDomain,
				Metadata: map[string]string{"current_version": strconv.FormatInt(stale.Current, 10)},
			},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type:        "VERSION",
				Subject:     "returns/" + stale.CaseID,
				Description: "current version is " + strconv.FormatInt(stale.Current, 10),
			}}})
	case errors.As(err, &transition):
		return withDetails(codes.FailedPrecondition, transition.Error(),
			&errdetails.ErrorInfo{Reason: "INVALID_TRANSITION", Domain: errorDomain, Metadata: map[string]string{
				"status": code(transition.Status, statusPrefix), "step": transition.Step,
			}},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: "STATUS", Subject: "status", Description: transition.Error(),
			}}})
	case errors.As(err, &requirement):
		violations := make([]*errdetails.PreconditionFailure_Violation, len(requirement.Unmet))
		for i, r := range requirement.Unmet {
			violations[i] = &errdetails.PreconditionFailure_Violation{
				Type: "REQUIREMENT", Subject: code(r, requirementPrefix), Description: "required before departure",
			}
		}
		return withDetails(codes.FailedPrecondition, requirement.Error(),
			&errdetails.ErrorInfo{Reason: "REQUIREMENT_UNMET", Domain: errorDomain},
			&errdetails.PreconditionFailure{Violations: violations})
	case errors.As(err, &rule):
		return withDetails(codes.FailedPrecondition, rule.Message,
			&errdetails.ErrorInfo{Reason: rule.Reason, Domain: errorDomain},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: rule.Reason, Subject: rule.Subject, Description: rule.Message,
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
