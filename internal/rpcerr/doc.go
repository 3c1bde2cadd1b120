// Package rpcerr builds gRPC status errors with google.rpc details, the one way every service
// reports bad arguments (InvalidArgument with a BadRequest; Violations to gather several;
// ParseID for an id field) and precondition failures (FailedPrecondition with an ErrorInfo and
// a PreconditionFailure). Each service keeps its own switch from domain errors to statuses;
// the shapes of the statuses (which details, in which order, with which reasons) live here so
// that clients can rely on them across services. Mapper maps the errors every service maps
// alike (status errors, shared-package errors, a database miss, a bad request id), so that a
// service maps only its own; StaleVersionError and TransitionError are the domain errors all
// services share, and carry their status.
package rpcerr
