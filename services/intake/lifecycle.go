package intake

import (
	"fmt"

	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// transitions lists the status changes UpdateCase may make. Closing goes through CloseCase,
// which has its own rule (any open status); nothing leaves CLOSED.
var transitions = map[intakev1.CaseStatus][]intakev1.CaseStatus{
	intakev1.CaseStatus_CASE_STATUS_REGISTERED: {intakev1.CaseStatus_CASE_STATUS_ACTIVE, intakev1.CaseStatus_CASE_STATUS_SUSPENDED},
	intakev1.CaseStatus_CASE_STATUS_ACTIVE:     {intakev1.CaseStatus_CASE_STATUS_SUSPENDED},
	intakev1.CaseStatus_CASE_STATUS_SUSPENDED:  {intakev1.CaseStatus_CASE_STATUS_ACTIVE},
}

// TransitionError is an impossible status change.
type TransitionError struct {
	From, To intakev1.CaseStatus
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("a case cannot move from %s to %s", enumcode.Code(e.From, statusPrefix), enumcode.Code(e.To, statusPrefix))
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
	return &TransitionError{From: from, To: to}
}

// checkClose reports whether a case in status from may be closed.
func checkClose(from intakev1.CaseStatus) error {
	if from == intakev1.CaseStatus_CASE_STATUS_CLOSED {
		return &TransitionError{From: from, To: intakev1.CaseStatus_CASE_STATUS_CLOSED}
	}
	return nil
}
