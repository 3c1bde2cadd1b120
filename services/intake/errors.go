package intake

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.intake.v1"

// errCaseNotFound is what a caller gets for a case that does not exist and for one of
// another mission alike, so that case ids of other missions cannot be probed.
var errCaseNotFound = status.Error(codes.NotFound, "case not found")

// staleVersion is a change made against a version of case caseID that is no longer current.
func staleVersion(caseID string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "case", Subject: "cases/" + caseID, Current: current}
}

// common maps the errors every service maps alike; toStatus asks it first.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: consent.StatusOf, NotFound: errCaseNotFound}

// toStatus maps the service's errors to gRPC status errors, in one place. The service has no
// errors of its own beyond those common maps and those that carry their status
// (rpcerr.StaleVersionError, rpcerr.TransitionError). Errors it does not know are returned
// as they are: the error-masking middleware turns them into an INTERNAL status without their
// text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	return err
}
