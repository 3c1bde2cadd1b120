package intake

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
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

// errCaseNotFound is what a caller gets for a case that does not exist and for one of
// another mission alike, so that case ids of other missions cannot be probed.
var errCaseNotFound = status.Error(codes.NotFound, "case not found")

// common maps the errors every service maps alike; toStatus asks it first.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: consent.StatusOf, NotFound: errCaseNotFound}

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
	)
	switch {
	case errors.As(err, &stale):
		return rpcerr.StaleVersion(errorDomain, "case", "cases/"+stale.CaseID, stale.Current)
	case errors.As(err, &transition):
		return rpcerr.InvalidTransition(errorDomain, transition.Error(), map[string]string{
			"from": enumcode.Code(transition.From, statusPrefix), "to": enumcode.Code(transition.To, statusPrefix),
		})
	}
	return err
}
