package staff

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/staffdir"
)

const errorDomain = staffdir.ErrorDomain

// errNotFound is a member the directory does not hold, or one of another mission for a
// supervisor: the same answer, so that a supervisor cannot probe other missions' staff ids.
var errNotFound = status.Error(codes.NotFound, "staff_id: not in the staff directory")

// errExists is a member added twice under different requests.
var errExists = status.Error(codes.AlreadyExists, "staff_id: already in the staff directory; change them with their version")

// errMoved is a member whose mission changed between the call's two reads of them.
var errMoved = status.Error(codes.Aborted, "staff_id: the member's mission changed meanwhile; retry")

// common maps the errors every service maps alike.
var common = rpcerr.Mapper{Domain: errorDomain, NotFound: errNotFound}

// toStatus maps the service's errors to gRPC status errors, in one place.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	return err
}

// staleVersion is a change made against a version of member staffID that is no longer
// current.
func staleVersion(staffID string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "staff member", Subject: "staff/" + staffID, Current: current}
}
