package trafficking

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.trafficking.v1"

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

// staleVersion is a change made against a version of case caseID that is no longer current.
func staleVersion(caseID string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "victim case", Subject: "victimCases/" + caseID, Current: current}
}

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
		ended *AssistanceEndedError
		part  *handoverpart.Refusal
	)
	switch {
	case errors.Is(err, errAssistanceNotFound):
		return status.Error(codes.NotFound, "assistance record not found")
	case errors.As(err, &part):
		return part.Status(errorDomain)
	case errors.As(err, &ended):
		return rpcerr.FailedPrecondition(errorDomain, "ASSISTANCE_ENDED", ended.Error(), nil,
			rpcerr.Violation("ASSISTANCE_ENDED", "assistance/"+ended.AssistanceID, ended.Error()))
	}
	return err
}

// notFound reports a miss of the victim case's projection.
func notFound(err error) bool { return errors.Is(err, database.ErrNotFound) }
