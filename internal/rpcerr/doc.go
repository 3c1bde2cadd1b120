// Package rpcerr builds gRPC status errors with google.rpc details, the one way every service
// reports precondition failures. Each service keeps its own switch from domain errors to
// statuses; the shapes of the statuses (which details, in which order, with which reasons)
// live here so that clients can rely on them across services.
package rpcerr
