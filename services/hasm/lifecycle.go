package hasm

import (
	"fmt"
	"slices"

	"github.com/passage-cm/passage/internal/enumcode"
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

// TransitionError is an impossible status change.
type TransitionError struct {
	From, To hasmv1.RequestStatus
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("a request cannot move from %s to %s", enumcode.Code(e.From, statusPrefix), enumcode.Code(e.To, statusPrefix))
}

// checkTransition reports whether a request may move from one status to another.
func checkTransition(from, to hasmv1.RequestStatus) error {
	if slices.Contains(transitions[from], to) {
		return nil
	}
	return &TransitionError{From: from, To: to}
}
