package intake

import (
	"fmt"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// transitions lists the status changes UpdateCase may make. Closing goes through CloseCase,
// which has its own rule (any open status); nothing leaves CLOSED.
var transitions = map[intakev1.CaseStatus][]intakev1.CaseStatus{
	intakev1.CaseStatus_CASE_STATUS_REGISTERED: {intakev1.CaseStatus_CASE_STATUS_ACTIVE, intakev1.CaseStatus_CASE_STATUS_SUSPENDED},
	intakev1.CaseStatus_CASE_STATUS_ACTIVE:     {intakev1.CaseStatus_CASE_STATUS_SUSPENDED},
	intakev1.CaseStatus_CASE_STATUS_SUSPENDED:  {intakev1.CaseStatus_CASE_STATUS_ACTIVE},
}

// transitionError is an impossible status change of a case.
func transitionError(from, to intakev1.CaseStatus) error {
	f, t := enumcode.Code(from), enumcode.Code(to)
	return &rpcerr.TransitionError{Domain: errorDomain, Message: fmt.Sprintf("a case cannot move from %s to %s", f, t),
		Metadata: map[string]string{"from": f, "to": t}}
}

// checkTransition reports whether a case may move from one status to another through
// UpdateCase. Staying in the same status is allowed (nothing changes).
func checkTransition(from, to intakev1.CaseStatus) error {
	if from == to && from != intakev1.CaseStatus_CASE_STATUS_CLOSED {
		return nil
	}
	for _, allowed := range transitions[from] {
		if allowed == to {
			return nil
		}
	}
	return transitionError(from, to)
}

// checkClose reports whether a case in status from may be closed.
func checkClose(from intakev1.CaseStatus) error {
	if from == intakev1.CaseStatus_CASE_STATUS_CLOSED {
		return transitionError(from, intakev1.CaseStatus_CASE_STATUS_CLOSED)
	}
	return nil
}
