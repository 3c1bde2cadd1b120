package returns

import (
	"fmt"
	"slices"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// Each step of the journey names the statuses it may be taken in; the statuses a step leads
// to are set by the step itself. Together they forbid the impossible orders: no departure
// before eligibility, no arrival before departure, no plan, assistance or monitoring before
// arrival, no assistance before a plan, nothing on a closed return but reopening it.
const (
	stepEligibility = "RecordEligibility"
	stepSafeguard   = "RecordPreDepartureStep (safeguard)"
	stepTravel      = "RecordPreDepartureStep (travel arrangement)"
	stepDeparture   = "RecordDeparture"
	stepArrival     = "RecordArrival"
	stepPlan        = "SetReintegrationPlan"
	stepAssistance  = "RecordAssistance"
	stepMonitoring  = "RecordMonitoringVisit"
	stepClose       = "CloseReturn"
	stepReopen      = "ReopenReturn"
)

var (
	counselling   = returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING
	eligible      = returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE
	notEligible   = returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE
	departed      = returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED
	arrived       = returnsv1.ReturnStatus_RETURN_STATUS_ARRIVED
	reintegration = returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION
	closed        = returnsv1.ReturnStatus_RETURN_STATUS_CLOSED
)

var allowedIn = map[string][]returnsv1.ReturnStatus{
	stepEligibility: {counselling, eligible, notEligible},
	stepSafeguard:   {counselling, eligible},
	stepTravel:      {eligible},
	stepDeparture:   {eligible},
	stepArrival:     {departed},
	stepPlan:        {arrived, reintegration},
	stepAssistance:  {reintegration},
	stepMonitoring:  {arrived, reintegration},
	stepClose:       {counselling, eligible, notEligible, departed, arrived, reintegration},
	stepReopen:      {closed},
}

// transitionError is a step the return's status does not allow.
func transitionError(step string, status returnsv1.ReturnStatus) error {
	code := enumcode.Code(status)
	return &rpcerr.TransitionError{Domain: errorDomain, Message: fmt.Sprintf("%s is not allowed on a return in status %s", step, code),
		Metadata: map[string]string{"status": code, "step": step}}
}

// checkStep reports whether a return in status may take step.
func checkStep(step string, status returnsv1.ReturnStatus) error {
	if slices.Contains(allowedIn[step], status) {
		return nil
	}
	return transitionError(step, status)
}

// RequirementError is a departure refused while safeguards remain unmet.
type RequirementError struct {
	Unmet []returnsv1.Requirement
}

func (e *RequirementError) Error() string {
	return fmt.Sprintf("%d requirement(s) of the case's vulnerabilities are not met", len(e.Unmet))
}

// RuleError is a step that breaks a rule about the return's facts (assistance outside the
// plan, a closure reason that does not fit the status, a case closed in intake).
type RuleError struct {
	// Reason is the ErrorInfo reason, e.g. "NOT_IN_PLAN".
	Reason  string
	Subject string
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// unmetRequirements lists the safeguards the return's vulnerabilities require before the
// travellers (subject ids) may depart, and that its pre-departure steps have not met yet:
//   - an unaccompanied migrant child needs a guardian appointed and a best-interests
//     assessment whose latest outcome finds return in the child's best interests;
//   - medical needs need a passed fit-to-travel check and a medical escort;
//   - a victim of trafficking needs a risk assessment;
//   - and for everyone: no traveller's latest fit-to-travel check may have failed.
func unmetRequirements(r *returnsv1.Return, travellers []string) []returnsv1.Requirement {
	var (
		guardian, escort, risk bool
		bestInterests          returnsv1.BestInterests
		fit                    = map[string]returnsv1.FitToTravel{}
	)
	for _, s := range r.GetPreDepartureSteps() {
		switch st := s.GetStep().(type) {
		case *returnsv1.PreDepartureStep_GuardianAppointed:
			guardian = true
		case *returnsv1.PreDepartureStep_MedicalEscort:
			escort = true
		case *returnsv1.PreDepartureStep_RiskAssessment:
			risk = true
		case *returnsv1.PreDepartureStep_BestInterestsAssessment:
			bestInterests = st.BestInterestsAssessment
		case *returnsv1.PreDepartureStep_FitToTravel:
			fit[s.GetSubjectId()] = st.FitToTravel
		}
	}
	passed, failed := false, false
	for _, id := range travellers {
		switch fit[id] {
		case returnsv1.FitToTravel_FIT_TO_TRAVEL_PASSED:
			passed = true
		case returnsv1.FitToTravel_FIT_TO_TRAVEL_FAILED:
			failed = true
		}
	}
	vs := r.GetVulnerabilities()
	var unmet []returnsv1.Requirement
	if slices.Contains(vs, commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD) {
		if !guardian {
			unmet = append(unmet, returnsv1.Requirement_REQUIREMENT_GUARDIAN_APPOINTED)
		}
		if bestInterests != returnsv1.BestInterests_BEST_INTERESTS_RETURN_IN_BEST_INTERESTS {
			unmet = append(unmet, returnsv1.Requirement_REQUIREMENT_BEST_INTERESTS_ASSESSMENT)
		}
	}
	medical := slices.Contains(vs, commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS)
	if failed || (medical && !passed) {
		unmet = append(unmet, returnsv1.Requirement_REQUIREMENT_FIT_TO_TRAVEL)
	}
	if medical && !escort {
		unmet = append(unmet, returnsv1.Requirement_REQUIREMENT_MEDICAL_ESCORT)
	}
	if slices.Contains(vs, commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING) && !risk {
		unmet = append(unmet, returnsv1.Requirement_REQUIREMENT_RISK_ASSESSMENT)
	}
	return unmet
}

// memberIDs returns the subject ids of the return's people, the principal first.
func memberIDs(r *returnsv1.Return) []string {
	ids := make([]string, len(r.GetMembers()))
	for i, m := range r.GetMembers() {
		ids[i] = m.GetSubjectId()
	}
	return ids
}

// setUnmet fills in the requirements still unmet, for a return that has not departed, as a
// reader who sees its pre-departure steps finds them (a receiving mission of other parts does
// not: it is told none).
func (rec *record) setUnmet() {
	r := rec.ret
	r.UnmetRequirements = nil
	if r.GetDeparture() == nil && r.GetStatus() != closed && rec.seesPreDeparture() {
		r.UnmetRequirements = unmetRequirements(r, memberIDs(r))
	}
}
