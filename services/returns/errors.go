package returns

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
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

// common maps the errors every service maps alike; toStatus asks it first.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: intakecase.StatusOf, NotFound: errCaseNotFound}

// toStatus maps the service's domain errors to gRPC status errors, in one place. Errors it
// does not know are returned as they are: the error-masking middleware turns them into an
// INTERNAL status without their text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	var (
		stale       *StaleVersionError
		transition  *TransitionError
		requirement *RequirementError
		rule        *RuleError
	)
	switch {
	case errors.As(err, &stale):
		return rpcerr.StaleVersion(errorDomain, "return", "returns/"+stale.CaseID, stale.Current)
	case errors.As(err, &transition):
		return rpcerr.InvalidTransition(errorDomain, transition.Error(), map[string]string{
			"status": enumcode.Code(transition.Status, statusPrefix), "step": transition.Step,
		})
	case errors.As(err, &requirement):
		violations := make([]*errdetails.PreconditionFailure_Violation, len(requirement.Unmet))
		for i, r := range requirement.Unmet {
			violations[i] = rpcerr.Violation("REQUIREMENT", enumcode.Code(r, requirementPrefix), "required before departure")
		}
		return rpcerr.FailedPrecondition(errorDomain, "REQUIREMENT_UNMET", requirement.Error(), nil, violations...)
	case errors.As(err, &rule):
		return rpcerr.FailedPrecondition(errorDomain, rule.Reason, rule.Message, nil,
			rpcerr.Violation(rule.Reason, rule.Subject, rule.Message))
	}
	return err
}

// notFound reports a miss of the return's projection.
func notFound(err error) bool { return errors.Is(err, database.ErrNotFound) }
