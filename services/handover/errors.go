package handover

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.handover.v1"

// Entities that are not there. Another mission's case, and a hand-over of which the caller's
// mission is neither the sender nor the receiver, are not found either, so that ids cannot be
// probed.
var (
	errCaseNotFound     = status.Error(codes.NotFound, "case not found")
	errHandoverNotFound = status.Error(codes.NotFound, "hand-over not found")
	errHQOnly           = status.Error(codes.PermissionDenied, "hand-over data profiles are published at HQ")
)

// Refusals that the state of the case or of the registry decides, of a proposal or of a move
// that shares the case further (accepting, completing): each is FAILED_PRECONDITION with its
// reason (toStatus).
var (
	errCaseClosed        = errors.New("the case is closed in intake")
	errProfileMissing    = errors.New("the profile version is not published for the programme")
	errConsentNotInForce = errors.New("the consent record is not a DATA_SHARING consent of the case's principal in force")
	// errConsentWithdrawn refuses accepting or completing a hand-over whose consent record,
	// in force when it was proposed, no longer is.
	errConsentWithdrawn = errors.New("the DATA_SHARING consent the hand-over rests on is no longer in force")
	// errPartOpen is a part of the case already in an open (PROPOSED or ACCEPTED) hand-over.
	// FAILED_PRECONDITION rather than ALREADY_EXISTS: the new hand-over is not the one that
	// exists, and the case can be handed over once the open one is withdrawn or declined.
	errPartOpen = errors.New("a part of the case is already in an open hand-over: withdraw or answer it first")
)

// refusal is the ErrorInfo reason of a refusal above, and the request field its violation
// names.
type refusal struct{ reason, field string }

var refusals = map[error]refusal{
	errCaseClosed:        {"CASE_CLOSED", "case_id"},
	errProfileMissing:    {"PROFILE_NOT_PUBLISHED", "profile_version"},
	errConsentNotInForce: {"CONSENT_NOT_IN_FORCE", "consent_id"},
	errConsentWithdrawn:  {"CONSENT_WITHDRAWN", "consent_id"},
	errPartOpen:          {"HANDOVER_OPEN", "parts"},
}

// staleVersion is a change made against a version of hand-over id that is no longer current.
func staleVersion(id string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "hand-over", Subject: "handovers/" + id, Current: current}
}

// common maps the errors every service maps alike; toStatus asks it first. A miss of the case
// projection (database.ErrNotFound) is the case's NOT_FOUND.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: intakecase.StatusOf, NotFound: errCaseNotFound}

// toStatus maps the service's domain errors to gRPC status errors, in one place. Errors it
// does not know are returned as they are: the error-masking middleware turns them into an
// INTERNAL status without their text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	if database.IsUniqueViolation(err, "part_open") {
		err = errPartOpen
	}
	for sentinel, r := range refusals {
		if errors.Is(err, sentinel) {
			// The sentinel's own text, never err.Error(): a wrapped error could carry more.
			return rpcerr.FailedPrecondition(errorDomain, r.reason, sentinel.Error(), nil,
				rpcerr.Violation(r.reason, r.field, sentinel.Error()))
		}
	}
	return err
}

// caseMissing reports a miss of the case projection.
func caseMissing(err error) bool { return errors.Is(err, database.ErrNotFound) }
