package rpcerr

import (
	"errors"

	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
)

// Mapper maps the errors every service maps alike. A service's toStatus calls Map first and
// maps only its own domain errors when Map reports false.
type Mapper struct {
	// Domain is the service's error domain ("passage.intake.v1"), handed to Shared.
	Domain string
	// NotFound is what database.ErrNotFound becomes, the service's not-found status; nil
	// leaves database.ErrNotFound to the service.
	NotFound error
	// Shared maps the errors of packages several services share (consent.StatusOf,
	// intakecase.StatusOf) and returns nil for an error it does not know; nil for none.
	// rpcerr cannot import those packages: they build their statuses with it.
	Shared func(domain string, err error) error
}

// Map returns the status for err and true when err is one every service maps alike: nil; a
// StaleVersionError or TransitionError, however wrapped, as its own status; any other status
// error, passed unchanged; an error Shared knows; database.ErrNotFound when NotFound
// is set; an invalid or reused request id, INVALID_ARGUMENT on request_id. For any other
// error it returns nil and false.
func (m Mapper) Map(err error) (error, bool) {
	if err == nil {
		return nil, true
	}
	// The errors that carry their status give it without the text of what wraps them: grpc
	// would send a wrapped status with err.Error() as its message.
	if stale, ok := errors.AsType[*StaleVersionError](err); ok {
		return stale.GRPCStatus().Err(), true
	}
	if transition, ok := errors.AsType[*TransitionError](err); ok {
		return transition.GRPCStatus().Err(), true
	}
	if _, ok := status.FromError(err); ok {
		return err, true
	}
	if m.Shared != nil {
		if st := m.Shared(m.Domain, err); st != nil {
			return st, true
		}
	}
	switch {
	case m.NotFound != nil && errors.Is(err, database.ErrNotFound):
		return m.NotFound, true
	case errors.Is(err, idempotency.ErrInvalidRequestID):
		return InvalidArgument(FieldViolation("request_id", "must be a UUID")), true
	case errors.Is(err, idempotency.ErrReused):
		return InvalidArgument(FieldViolation("request_id", idempotency.ErrReused.Error())), true
	}
	return nil, false
}
