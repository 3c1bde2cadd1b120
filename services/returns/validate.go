package returns

import (
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/currency"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/rpcerr"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// The rules here are the ones protovalidate cannot state: country and currency codes, dates
// against today and against the journey's earlier dates, rules across fields. Each violation
// names the field, never its value.

// checkDay checks a full date that is not in the future; a nil date is left to protovalidate.
func checkDay(v *rpcerr.Violations, field string, d *date.Date, today time.Time) {
	if d == nil {
		return
	}
	err := civildate.CheckFull(d)
	if err == nil {
		err = civildate.NotAfter(d, today)
	}
	if err != nil {
		v.Add(field, err.Error())
	}
}

// checkNotBefore refuses a date before an earlier step's date.
func checkNotBefore(v *rpcerr.Violations, field string, d, earlier *date.Date, what string) {
	if d != nil && earlier != nil && civildate.ToTime(d).Before(civildate.ToTime(earlier)) {
		v.Add(field, "must not be before "+what)
	}
}

func checkEligibility(d *returnsv1.EligibilityDecision, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "decision.decision_date", d.GetDecisionDate(), today)
	checkDay(&v, "decision.counselling_date", d.GetCounsellingDate(), today)
	checkNotBefore(&v, "decision.decision_date", d.GetDecisionDate(), d.GetCounsellingDate(), "the counselling date")
	unset := d.GetIneligibilityReason() == returnsv1.IneligibilityReason_INELIGIBILITY_REASON_UNSPECIFIED
	switch {
	case d.GetEligibility() == returnsv1.Eligibility_ELIGIBILITY_NOT_ELIGIBLE && unset:
		v.Add("decision.ineligibility_reason", "is required when not eligible")
	case d.GetEligibility() == returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE && !unset:
		v.Add("decision.ineligibility_reason", "must be unset when eligible")
	}
	return v.Err()
}

// isSafeguard reports whether a step is a safeguard for a vulnerable person (allowed from
// counselling on) rather than a travel arrangement (allowed once eligible).
func isSafeguard(s *returnsv1.PreDepartureStep) bool {
	switch s.GetStep().(type) {
	case *returnsv1.PreDepartureStep_GuardianAppointed, *returnsv1.PreDepartureStep_BestInterestsAssessment,
		*returnsv1.PreDepartureStep_RiskAssessment:
		return true
	}
	return false
}

// concernsPerson reports whether a step is about one person (and so takes a subject_id).
func concernsPerson(s *returnsv1.PreDepartureStep) bool {
	switch s.GetStep().(type) {
	case *returnsv1.PreDepartureStep_TravelDocument, *returnsv1.PreDepartureStep_FitToTravel:
		return true
	}
	return false
}

func checkPreDepartureStep(s *returnsv1.PreDepartureStep, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "step.date", s.GetDate(), today)
	if s.GetSubjectId() != "" && !concernsPerson(s) {
		v.Add("step.subject_id", "is only for travel documents and fit-to-travel checks")
	}
	return v.Err()
}

func checkDeparture(req *returnsv1.RecordDepartureRequest, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "departure_date", req.GetDepartureDate(), today)
	if !country.Valid(req.GetReturnCountry()) {
		v.Add("return_country", "must be an assigned ISO 3166-1 alpha-3 country code")
	}
	return v.Err()
}

func checkPlan(p *returnsv1.ReintegrationPlan, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "plan.plan_date", p.GetPlanDate(), today)
	if len(p.GetEconomic())+len(p.GetSocial())+len(p.GetPsychosocial()) == 0 {
		v.Add("plan", "must plan at least one type of assistance")
	}
	return v.Err()
}

func checkAssistance(a *returnsv1.Assistance, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "assistance.delivery_date", a.GetDeliveryDate(), today)
	if a.GetValue() != nil {
		if _, err := currency.ParseISO(a.GetValue().GetCurrencyCode()); err != nil {
			v.Add("assistance.value.currency_code", "must be an ISO 4217 currency code")
		}
	}
	return v.Err()
}

// scoreTolerance absorbs floating-point rounding when a given composite score is compared
// with the dimension scores.
const scoreTolerance = 1e-9

func checkVisit(m *returnsv1.MonitoringVisit, today time.Time) error {
	var v rpcerr.Violations
	checkDay(&v, "visit.visit_date", m.GetVisitDate(), today)
	seen := map[string]bool{}
	for i, x := range m.GetIndicators() {
		if seen[x.GetIndicatorId()] {
			v.Add(fmt.Sprintf("visit.indicators[%d].indicator_id", i), "must not repeat an indicator")
		}
		seen[x.GetIndicatorId()] = true
	}
	if m.CompositeScore != nil {
		lo := min(m.GetEconomicScore(), m.GetSocialScore(), m.GetPsychosocialScore())
		hi := max(m.GetEconomicScore(), m.GetSocialScore(), m.GetPsychosocialScore())
		if c := m.GetCompositeScore(); c < lo-scoreTolerance || c > hi+scoreTolerance {
			v.Add("visit.composite_score", "must lie between the lowest and the highest dimension score")
		}
	}
	return v.Err()
}

// compositeScore is the mean of the three dimension scores, rounded to four decimals (the
// precision the RSS reports).
func compositeScore(m *returnsv1.MonitoringVisit) float64 {
	mean := (m.GetEconomicScore() + m.GetSocialScore() + m.GetPsychosocialScore()) / 3
	return math.Round(mean*1e4) / 1e4
}

// parseCaseID parses a case id (rpcerr.ParseID).
func parseCaseID(s string) (uuid.UUID, error) { return rpcerr.ParseID("case_id", s) }

// latestEligibility is the decision that holds, or nil.
func latestEligibility(r *returnsv1.Return) *returnsv1.EligibilityDecision {
	ds := r.GetEligibilityDecisions()
	if len(ds) == 0 {
		return nil
	}
	return ds[len(ds)-1]
}

// latestPlan is the plan that holds, or nil.
func latestPlan(r *returnsv1.Return) *returnsv1.ReintegrationPlan {
	ps := r.GetReintegrationPlans()
	if len(ps) == 0 {
		return nil
	}
	return ps[len(ps)-1]
}
