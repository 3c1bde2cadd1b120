package trafficking

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

const errorDomain = "passage.trafficking.v1"

// errAssistanceNotFound is an assistance id that is not a record of the case.
var errAssistanceNotFound = errors.New("assistance record not found")

// AssistanceEndedError is an assistance record whose end date is already recorded.
type AssistanceEndedError struct {
	AssistanceID string
}

func (e *AssistanceEndedError) Error() string { return "the assistance record already has an end date" }

// PartError is a step of a part of the case that another mission holds: Holder, by an
// accepted hand-over, or the case's own mission. HandedOver says the caller is the case's own
// mission, which handed the part over.
type PartError struct {
	Part       handoverv1.HandoverPart
	Holder     string
	HandedOver bool
}

func (e *PartError) Error() string {
	if e.HandedOver {
		return "the case's " + enumcode.Code(e.Part) + " part is handed over to another mission"
	}
	return "the case's " + enumcode.Code(e.Part) + " part is held by another mission"
}

// reason is the ErrorInfo reason of the refusal.
func (e *PartError) reason() string {
	if e.HandedOver {
		return "PART_HANDED_OVER"
	}
	return "PART_NOT_HELD"
}

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
		part  *PartError
	)
	switch {
	case errors.Is(err, errAssistanceNotFound):
		return status.Error(codes.NotFound, "assistance record not found")
	case errors.As(err, &part):
		// Codes only: the part and the holding mission.
		return rpcerr.FailedPrecondition(errorDomain, part.reason(), part.Error(),
			map[string]string{"part": enumcode.Code(part.Part), "mission": part.Holder},
			rpcerr.Violation(part.reason(), "parts/"+enumcode.Code(part.Part), part.Error()))
	case errors.As(err, &ended):
		return rpcerr.FailedPrecondition(errorDomain, "ASSISTANCE_ENDED", ended.Error(), nil,
			rpcerr.Violation("ASSISTANCE_ENDED", "assistance/"+ended.AssistanceID, ended.Error()))
	}
	return err
}

// notFound reports a miss of the victim case's projection.
func notFound(err error) bool { return errors.Is(err, database.ErrNotFound) }
