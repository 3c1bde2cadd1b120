package hasm

import (
	"fmt"
	"slices"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// transitions lists the status changes a request may make. Each RPC moves to one status, so
// one table says every order allowed: no departure before approval, nothing after a
// rejection, an arrival or a closure.
var transitions = map[hasmv1.RequestStatus][]hasmv1.RequestStatus{
	hasmv1.RequestStatus_REQUEST_STATUS_REQUESTED: {
		hasmv1.RequestStatus_REQUEST_STATUS_APPROVED, hasmv1.RequestStatus_REQUEST_STATUS_REJECTED, hasmv1.RequestStatus_REQUEST_STATUS_CLOSED,
	},
	hasmv1.RequestStatus_REQUEST_STATUS_APPROVED: {hasmv1.RequestStatus_REQUEST_STATUS_DEPARTED, hasmv1.RequestStatus_REQUEST_STATUS_CLOSED},
	hasmv1.RequestStatus_REQUEST_STATUS_DEPARTED: {hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED, hasmv1.RequestStatus_REQUEST_STATUS_CLOSED},
}

// transitionError is an impossible status change of a request.
func transitionError(from, to hasmv1.RequestStatus) error {
	f, t := enumcode.Code(from), enumcode.Code(to)
	return &rpcerr.TransitionError{Domain: errorDomain, Message: fmt.Sprintf("a request cannot move from %s to %s", f, t),
		Metadata: map[string]string{"from": f, "to": t}}
}

// checkTransition reports whether a request may move from one status to another.
func checkTransition(from, to hasmv1.RequestStatus) error {
	if slices.Contains(transitions[from], to) {
		return nil
	}
	return transitionError(from, to)
}
