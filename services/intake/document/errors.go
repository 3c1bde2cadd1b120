package document

import (
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/rpcerr"
)

const errorDomain = "passage.document.v1"

// errNotFound is what a caller gets for a document or case that does not exist and for one of
// another mission alike, so that ids of other missions cannot be probed.
var errNotFound = status.Error(codes.NotFound, "case or document not found")

// errErased is an upload about a person who was erased: nothing can seal it.
var errErased = status.Error(codes.FailedPrecondition, "subject_id: the person the document is about was erased")

// errNoPurpose is a read without a stated purpose.
var errNoPurpose = rpcerr.InvalidArgument(rpcerr.FieldViolation("purpose", "is required: why you read the documents"))

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

func parseCaseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("case_id", s) }

func parseDocumentID(s string) (uuid.UUID, error) { return rpcerr.ParseID("document_id", s) }
