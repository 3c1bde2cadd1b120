package trafficking

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.trafficking.v1"

// StaleVersionError is a change made against a version that is no longer current.
type StaleVersionError struct {
	CaseID  string
	Current int64
}

func (e *StaleVersionError) Error() string {
	return fmt.Sprintf("victim case is at version %d", e.Current)
}

// errAssistanceNotFound is an assistance id that is not a record of the case.
var errAssistanceNotFound = errors.New("assistance record not found")

// AssistanceEndedError is an assistance record whose end date is already recorded.
type AssistanceEndedError struct {
	AssistanceID string
}

func (e *AssistanceEndedError) Error() string { return "the assistance record already has an end date" }

// errCaseNotFound is what a caller gets for a case that does not exist, one of another
// mission and one of another programme alike, so that case ids cannot be probed.
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
		stale      *StaleVersionError
		transition *TransitionError
		ended      *AssistanceEndedError
	)
	switch {
	case errors.Is(err, errAssistanceNotFound):
		return status.Error(codes.NotFound, "assistance record not found")
	case errors.As(err, &stale):
		return rpcerr.StaleVersion(errorDomain, "victim case", "victimCases/"+stale.CaseID, stale.Current)
	case errors.As(err, &transition):
		return rpcerr.InvalidTransition(errorDomain, transition.Error(), map[string]string{
			"from": enumcode.Code(transition.From, statusPrefix), "action": transition.Action,
		})
	case errors.As(err, &ended):
		return rpcerr.FailedPrecondition(errorDomain, "ASSISTANCE_ENDED", ended.Error(), nil,
			rpcerr.Violation("ASSISTANCE_ENDED", "assistance/"+ended.AssistanceID, ended.Error()))
	}
	return err
}

// notFound reports a miss of the victim case's projection.
func notFound(err error) bool { return errors.Is(err, database.ErrNotFound) }
