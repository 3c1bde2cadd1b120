package trafficking

import (
	"fmt"
	"slices"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

const (
	awaiting   = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_AWAITING_SCREENING
	presumed   = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_PRESUMED_VICTIM
	identified = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_IDENTIFIED_VICTIM
	notVictim  = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_NOT_A_VICTIM
	closed     = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED
)

// screenings lists the statuses a screening may move a case to. Identification only moves
// forward: a presumed victim may be identified or found not a victim; an identified victim is
// not screened again, and a person found not a victim can only have their case closed.
var screenings = map[traffickingv1.VictimCaseStatus][]traffickingv1.VictimCaseStatus{
	awaiting: {presumed, identified, notVictim},
	presumed: {identified, notVictim},
}

// victims are the statuses in which facts about the exploitation and the assistance of a
// victim are recorded.
var victims = []traffickingv1.VictimCaseStatus{presumed, identified}

// Actions refused by status, as transitionError names them.
const (
	actionExploitation   = "record exploitation details"
	actionAssistance     = "record assistance"
	actionEndAssistance  = "end assistance"
	actionCooperation    = "record law-enforcement cooperation"
	actionRisk           = "record a risk assessment"
	actionClose          = "be closed"
	actionCloseNotVictim = "be closed as not a victim"
)

// transitionError is an action the case's status from forbids; action is what was refused,
// e.g. "record assistance" or "be screened as PRESUMED_VICTIM".
func transitionError(from traffickingv1.VictimCaseStatus, action string) error {
	code := enumcode.Code(from)
	return &rpcerr.TransitionError{Domain: errorDomain, Message: fmt.Sprintf("a victim case in status %s cannot %s", code, action),
		Metadata: map[string]string{"from": code, "action": action}}
}

// checkScreening reports whether a case in status from may be screened with outcome to.
func checkScreening(from traffickingv1.VictimCaseStatus, to traffickingv1.IdentificationStatus) error {
	if slices.Contains(screenings[from], statusAfterScreening(to)) {
		return nil
	}
	return transitionError(from, "be screened as "+enumcode.Code(to))
}

// checkVictimFact reports whether a case in status from takes a fact about a victim.
func checkVictimFact(from traffickingv1.VictimCaseStatus, action string) error {
	if slices.Contains(victims, from) {
		return nil
	}
	return transitionError(from, action)
}

// checkEndAssistance reports whether a case in status from may end an assistance record:
// assistance started for a presumed victim later found not a victim still ends.
func checkEndAssistance(from traffickingv1.VictimCaseStatus) error {
	if from == notVictim {
		return nil
	}
	return checkVictimFact(from, actionEndAssistance)
}

// checkClose reports whether a case in status from may be closed for reason.
func checkClose(from traffickingv1.VictimCaseStatus, reason traffickingv1.ClosureReason) error {
	switch {
	case from == closed:
		return transitionError(from, actionClose)
	case reason == traffickingv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM && from != notVictim:
		return transitionError(from, actionCloseNotVictim)
	}
	return nil
}
