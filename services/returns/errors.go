package returns

import (
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.returns.v1"

// errCaseNotFound is what a caller gets for a case that does not exist, one of another
// mission and one of another programme alike, so that none can be probed.
var errCaseNotFound = status.Error(codes.NotFound, "case not found")

// staleVersion is a change made against a version of case caseID that is no longer current.
func staleVersion(caseID string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "return", Subject: "returns/" + caseID, Current: current}
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
		requirement *RequirementError
		rule        *RuleError
		part        *handoverpart.Refusal
	)
	switch {
	case errors.As(err, &part):
		return part.Status(errorDomain)
	case errors.As(err, &requirement):
		violations := make([]*errdetails.PreconditionFailure_Violation, len(requirement.Unmet))
		for i, r := range requirement.Unmet {
			violations[i] = rpcerr.Violation("REQUIREMENT", enumcode.Code(r), "required before departure")
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
