package rpcerr

import (
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// InvalidArgument returns an InvalidArgument status error carrying violations as a
// google.rpc.BadRequest detail, with the message "invalid request: <field>: <description>"
// built from the first violation. Handlers use it for business rules so that clients see
// one shape for every bad field, whether the .proto rules or the handler caught it.
func InvalidArgument(violations ...*errdetails.BadRequest_FieldViolation) error {
	msg := "invalid request"
	if len(violations) > 0 {
		if f := violations[0].GetField(); f != "" {
			msg += ": " + f
		}
		if d := violations[0].GetDescription(); d != "" {
			msg += ": " + d
		}
	}
	st := status.New(codes.InvalidArgument, msg)
	if len(violations) == 0 {
		return st.Err()
	}
	withDetails, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: violations})
	if err != nil {
		// Only a detail that cannot be marshalled fails; the message still names the field.
		return st.Err()
	}
	return withDetails.Err()
}

// FieldViolation describes one bad field: field is its dotted path ("principal.given_name",
// "household_members[1].given_name") and description the rule it breaks ("must not be in
// the future"). The description must never quote the field's value: it reaches the client
// and the field may hold personal data.
func FieldViolation(field, description string) *errdetails.BadRequest_FieldViolation {
	return &errdetails.BadRequest_FieldViolation{Field: field, Description: description}
}

// ParseID parses the id in field (a UUID the .proto rules already checked), so that a handler
// stays safe should it ever be called without the validation stage: a malformed id is an
// InvalidArgument on field, which never quotes the value.
func ParseID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, InvalidArgument(FieldViolation(field, "must be a valid UUID"))
	}
	return id, nil
}

// Violations gathers the bad fields of a request whose handler checks several rules before it
// answers: Add one for each rule broken, then return Err.
type Violations []*errdetails.BadRequest_FieldViolation

// Add records that field breaks a rule (see FieldViolation).
func (v *Violations) Add(field, description string) {
	*v = append(*v, FieldViolation(field, description))
}

// Err is the InvalidArgument of every violation added, or nil when there is none.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	return InvalidArgument(v...)
}
