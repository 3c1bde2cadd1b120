package followup

import (
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.followup.v1"

// errNotFound is what a caller gets for a follow-up that does not exist and for one of
// another mission alike, so that none can be probed.
var errNotFound = status.Error(codes.NotFound, "follow-up not found")

// errCaseNotFound is ListFollowUps' answer for a case the caller's mission has no follow-up
// of, whether the case is another mission's or has none yet.
var errCaseNotFound = status.Error(codes.NotFound, "case not found: the mission has no follow-up of it")

// common maps the errors every service maps alike; toStatus is it alone, since every error of
// the service's own carries its status.
var common = rpcerr.Mapper{Domain: errorDomain, NotFound: errNotFound}

// toStatus maps the service's errors to gRPC status errors. Errors it does not know are
// returned as they are: the error-masking middleware turns them into an INTERNAL status
// without their text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	return err
}

// staleFollowUp is a change made against a version of follow-up id that is no longer current.
func staleFollowUp(id string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "follow-up", Subject: "followUps/" + id, Current: current}
}

// staleSchedule is a schedule change made against a version that is no longer current.
func staleSchedule(mission string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "schedule", Subject: "schedules/" + mission, Current: current}
}

// closedError refuses a change to a closed follow-up.
func closedError(step string) error {
	return &rpcerr.TransitionError{Domain: errorDomain, Message: "the follow-up is closed: it cannot be " + step,
		Metadata: map[string]string{"from": stateClosed, "step": step}}
}

// parseID parses a follow-up id (protovalidate has checked it is a UUID).
func parseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("follow_up_id", s) }
