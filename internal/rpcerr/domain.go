package rpcerr

import (
	"fmt"

	"google.golang.org/grpc/status"
)

// StaleVersionError is a change made against a version of a record that is no longer
// current. It carries its status, the one StaleVersion builds, so that every service reports
// it alike.
type StaleVersionError struct {
	// Domain is the error domain of the service ("passage.intake.v1").
	Domain string
	// What names the kind of record in words ("case", "record", "victim case").
	What string
	// Subject is the record's resource name ("cases/<id>", "funds/<code>/<year>").
	Subject string
	// Current is the version the record is at.
	Current int64
}

// Error returns the status message: "the <what> changed since it was read: it is at version
// <current>".
func (e *StaleVersionError) Error() string {
	return fmt.Sprintf("the %s changed since it was read: it is at version %d", e.What, e.Current)
}

// GRPCStatus returns the FAILED_PRECONDITION status of StaleVersion.
func (e *StaleVersionError) GRPCStatus() *status.Status {
	return status.Convert(StaleVersion(e.Domain, e.What, e.Subject, e.Current))
}

// TransitionError is a change the record's status does not allow, or one the caller may not
// make in it. It carries its status, the one InvalidTransition builds.
type TransitionError struct {
	// Domain is the error domain of the service.
	Domain string
	// Message says what was refused, in words a client may show ("a case cannot move from
	// CLOSED to OPEN"); it never holds personal data.
	Message string
	// Metadata goes into the ErrorInfo: the status codes and the step involved.
	Metadata map[string]string
}

// Error returns Message.
func (e *TransitionError) Error() string { return e.Message }

// GRPCStatus returns the FAILED_PRECONDITION status of InvalidTransition.
func (e *TransitionError) GRPCStatus() *status.Status {
	return status.Convert(InvalidTransition(e.Domain, e.Message, e.Metadata))
}
