package casenote

import (
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.casenote.v1"

// errNotFound is what a caller gets for a note or case that does not exist and for one of
// another mission alike, so that ids of other missions cannot be probed.
var errNotFound = status.Error(codes.NotFound, "case or note not found")

// errErased is a change of a note about a person who was erased: nothing can seal it again.
var errErased = status.Error(codes.FailedPrecondition, "subject_id: the person the note is about was erased")

// common maps the errors every service maps alike.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: consent.StatusOf, NotFound: errNotFound}

// toStatus maps the service's errors to gRPC status errors, in one place. Errors it does not
// know are returned as they are: the error-masking middleware turns them into an INTERNAL
// status without their text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	return err
}

// staleVersion is an edit made against a version of note id that is no longer current.
func staleVersion(id string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "note", Subject: "notes/" + id, Current: current}
}

func parseCaseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("case_id", s) }

func parseNoteID(s string) (uuid.UUID, error) { return rpcerr.ParseID("note_id", s) }
