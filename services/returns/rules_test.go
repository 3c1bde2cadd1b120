package returns_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// steps are one call of every mutating RPC, valid but for the return's status.
var steps = map[string]func(b *bundle, r *returnsv1.Return) error{
	"eligibility": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Decision: eligibleNow()})
		return err
	},
	"safeguard": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordPreDepartureStep(b.worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Step: &returnsv1.PreDepartureStep{Date: day(2026, 1, 20),
				Step: &returnsv1.PreDepartureStep_RiskAssessment{RiskAssessment: returnsv1.RiskLevel_RISK_LEVEL_LOW}}})
		return err
	},
	"travel": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordPreDepartureStep(b.worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Step: &returnsv1.PreDepartureStep{Date: day(2026, 1, 20),
				Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}}})
		return err
	},
	"departure": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordDeparture(b.worker, departure(r))
		return err
	},
	"arrival": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordArrival(b.worker, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 4)}})
		return err
	},
	"plan": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.SetReintegrationPlan(b.worker, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Plan: businessPlan()})
		return err
	},
	"assistance": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordAssistance(b.worker, &returnsv1.RecordAssistanceRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Assistance: &returnsv1.Assistance{
				Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP, Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC,
				DeliveryDate: day(2026, 2, 20), Provider: "IOM-IRQ"}})
		return err
	},
	"monitoring": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.RecordMonitoringVisit(b.worker, &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Visit: &returnsv1.MonitoringVisit{VisitDate: day(2026, 3, 1),
				EconomicScore: proto.Float64(0.5), SocialScore: proto.Float64(0.5), PsychosocialScore: proto.Float64(0.5)}})
		return err
	},
	"close": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.CloseReturn(b.worker, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_LOST_CONTACT})
		return err
	},
	"reopen": func(b *bundle, r *returnsv1.Return) error {
		_, err := b.client.ReopenReturn(b.boss, &returnsv1.ReopenReturnRequest{RequestId: uuid.NewString(),
			CaseId: r.GetCaseId(), Version: r.GetVersion(), Reason: returnsv1.ReopenReason_REOPEN_REASON_CONTACT_RESTORED})
		return err
	},
}

// TestStatusesForbidImpossibleOrders tries every step in every status: the ones the status
// does not allow fail with INVALID_TRANSITION and write nothing; the ones it allows succeed.
func TestStatusesForbidImpossibleOrders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	allowed := map[returnsv1.ReturnStatus][]string{
		returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING:   {"eligibility", "safeguard", "close"},
		returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE:      {"eligibility", "safeguard", "travel", "departure", "close"},
		returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE:  {"eligibility", "close"},
		returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED:      {"arrival", "close"},
		returnsv1.ReturnStatus_RETURN_STATUS_ARRIVED:       {"plan", "monitoring", "close"},
		returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION: {"plan", "assistance", "monitoring", "close"},
		returnsv1.ReturnStatus_RETURN_STATUS_CLOSED:        {"reopen"},
	}
	for status, ok := range allowed {
		r := b.walk(t, status)
		if r.GetStatus() != status {
			t.Fatalf("walked to %v, want %v", r.GetStatus(), status)
		}
		before := b.stored(t)
		for name, call := range steps {
			if slices.Contains(ok, name) {
				continue
			}
			st := testserver.WantCode(t, call(b, r), codes.FailedPrecondition)
			if reason(st) != "INVALID_TRANSITION" {
				t.Errorf("%s in %v: reason %q, want INVALID_TRANSITION", name, status, reason(st))
			}
		}
		if diff := cmp.Diff(before, b.stored(t)); diff != "" {
			t.Errorf("refused steps in %v changed the database (-before +after):\n%s", status, diff)
		}
		for _, name := range ok {
			fresh := b.walk(t, status)
			if err := steps[name](b, fresh); err != nil {
				t.Errorf("%s in %v: %v", name, status, err)
			}
		}
	}
}

func TestVulnerabilityRequirements(t *testing.T) {
	t.Parallel()
	b := setup(t)
	unmet := func(names ...string) []returnsv1.Requirement {
		var out []returnsv1.Requirement
		for _, n := range names {
			out = append(out, returnsv1.Requirement(returnsv1.Requirement_value["REQUIREMENT_"+n]))
		}
		return out
	}
	step := func(d int32, s any) *returnsv1.PreDepartureStep {
		p := &returnsv1.PreDepartureStep{Date: day(2026, 1, d)}
		switch s := s.(type) {
		case returnsv1.BestInterests:
			p.Step = &returnsv1.PreDepartureStep_BestInterestsAssessment{BestInterestsAssessment: s}
		case returnsv1.FitToTravel:
			p.Step = &returnsv1.PreDepartureStep_FitToTravel{FitToTravel: s}
		case returnsv1.RiskLevel:
			p.Step = &returnsv1.PreDepartureStep_RiskAssessment{RiskAssessment: s}
		case *returnsv1.GuardianAppointed:
			p.Step = &returnsv1.PreDepartureStep_GuardianAppointed{GuardianAppointed: s}
		case *returnsv1.MedicalEscortArranged:
			p.Step = &returnsv1.PreDepartureStep_MedicalEscort{MedicalEscort: s}
		}
		return p
	}
	refused := func(t *testing.T, r *returnsv1.Return, req *returnsv1.RecordDepartureRequest, want ...string) {
		t.Helper()
		before := b.stored(t)
		_, err := b.client.RecordDeparture(b.worker, req)
		st := testserver.WantCode(t, err, codes.FailedPrecondition)
		if reason(st) != "REQUIREMENT_UNMET" {
			t.Errorf("reason %q, want REQUIREMENT_UNMET", reason(st))
		}
		if diff := cmp.Diff(want, preconditionSubjects(st)); diff != "" {
			t.Errorf("unmet requirements (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, b.stored(t)); diff != "" {
			t.Errorf("a refused departure changed the database (-before +after):\n%s", diff)
		}
	}

	t.Run("unaccompanied migrant child", func(t *testing.T) {
		req := registration(relative("Samir", commonv1.Sex_SEX_MALE, 2011))
		req.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD}
		r := b.register(t, req)
		if diff := cmp.Diff(unmet("GUARDIAN_APPOINTED", "BEST_INTERESTS_ASSESSMENT"), r.GetUnmetRequirements()); diff != "" {
			t.Errorf("unmet requirements of a new return (-want +got):\n%s", diff)
		}
		// Safeguards may come during counselling, before eligibility.
		r = b.preDeparture(t, r, step(11, &returnsv1.GuardianAppointed{}))
		r = b.eligible(t, r)
		refused(t, r, departure(r), "BEST_INTERESTS_ASSESSMENT")
		r = b.preDeparture(t, r, step(16, returnsv1.BestInterests_BEST_INTERESTS_RETURN_NOT_IN_BEST_INTERESTS))
		refused(t, r, departure(r), "BEST_INTERESTS_ASSESSMENT")
		r = b.preDeparture(t, r, step(20, returnsv1.BestInterests_BEST_INTERESTS_RETURN_IN_BEST_INTERESTS))
		if len(r.GetUnmetRequirements()) != 0 {
			t.Errorf("requirements left: %v", r.GetUnmetRequirements())
		}
		b.depart(t, r)
	})

	t.Run("medical needs and a victim of trafficking", func(t *testing.T) {
		req := registration(karim())
		req.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
		r := b.eligible(t, b.register(t, req))
		if diff := cmp.Diff(unmet("FIT_TO_TRAVEL", "MEDICAL_ESCORT", "RISK_ASSESSMENT"), r.GetUnmetRequirements()); diff != "" {
			t.Errorf("unmet requirements (-want +got):\n%s", diff)
		}
		r = b.preDeparture(t, r, step(18, returnsv1.FitToTravel_FIT_TO_TRAVEL_FAILED))
		r = b.preDeparture(t, r, step(18, returnsv1.RiskLevel_RISK_LEVEL_HIGH))
		refused(t, r, departure(r), "FIT_TO_TRAVEL", "MEDICAL_ESCORT")
		r = b.preDeparture(t, r, step(25, returnsv1.FitToTravel_FIT_TO_TRAVEL_PASSED))
		r = b.preDeparture(t, r, step(25, &returnsv1.MedicalEscortArranged{}))
		if got := b.depart(t, r); got.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED {
			t.Errorf("status %v after departure", got.GetStatus())
		}
	})

	t.Run("a household member unfit to travel stays", func(t *testing.T) {
		r := b.eligible(t, b.register(t, registration(karim(), relative("Layla", commonv1.Sex_SEX_FEMALE, 1990))))
		layla := r.GetMembers()[1].GetSubjectId()
		s := step(18, returnsv1.FitToTravel_FIT_TO_TRAVEL_FAILED)
		s.SubjectId = layla
		r = b.preDeparture(t, r, s)
		refused(t, r, departure(r), "FIT_TO_TRAVEL")
		req := departure(r)
		req.TravellingSubjectIds = []string{r.GetSubjectId()}
		resp, err := b.client.RecordDeparture(b.worker, req)
		if err != nil {
			t.Fatalf("departure of the principal alone: %v", err)
		}
		if diff := cmp.Diff([]string{r.GetSubjectId()}, resp.GetReturn().GetDeparture().GetTravellingSubjectIds()); diff != "" {
			t.Errorf("travellers (-want +got):\n%s", diff)
		}
		dep := b.events(t, r.GetCaseId())
		if n := len(dep[len(dep)-1].(*commonv1.DepartureRecorded).GetTravellers()); n != 1 {
			t.Errorf("DepartureRecorded counts %d travellers, want 1", n)
		}
	})
}

func TestStaleVersionAndIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)
	req := departure(r)
	first, err := b.client.RecordDeparture(b.worker, req)
	if err != nil {
		t.Fatal(err)
	}
	before := b.stored(t)
	again, err := b.client.RecordDeparture(b.worker, proto.CloneOf(req))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("a retry returned another result (-first +retry):\n%s", diff)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a retry wrote (-before +after):\n%s", diff)
	}

	// Eight retries of one request race each other: one applies, all get its result.
	racing := &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: first.GetReturn().GetVersion(),
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 4)}}
	var wg sync.WaitGroup
	results := make([]*returnsv1.RecordArrivalResponse, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = b.client.RecordArrival(b.worker, proto.CloneOf(racing)) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("racing retry %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(results[0], results[i], protocmp.Transform()); diff != "" {
			t.Errorf("racing retry %d returned another result (-first +this):\n%s", i, diff)
		}
	}
	if got := b.stored(t)["returns.arrival"]; got != 1 {
		t.Errorf("%d arrivals stored, want 1", got)
	}

	// A step on the version read before the arrival is stale.
	before = b.stored(t)
	stale := &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: first.GetReturn().GetVersion(),
		Visit: &returnsv1.MonitoringVisit{VisitDate: day(2026, 3, 1), EconomicScore: proto.Float64(0.5), SocialScore: proto.Float64(0.5), PsychosocialScore: proto.Float64(0.5)}}
	_, err = b.client.RecordMonitoringVisit(b.worker, stale)
	st := testserver.WantCode(t, err, codes.FailedPrecondition)
	if reason(st) != "STALE_VERSION" {
		t.Errorf("reason %q, want STALE_VERSION", reason(st))
	}
	// The same request id for another request is refused.
	reused := proto.CloneOf(stale)
	reused.RequestId, reused.Version = racing.GetRequestId(), results[0].GetReturn().GetVersion()
	_, err = b.client.RecordMonitoringVisit(b.worker, reused)
	if diff := cmp.Diff([]string{"request_id"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refusals wrote (-before +after):\n%s", diff)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	elig := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)
	dep := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED)
	re := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION)
	scores := func(e, s, p float64) *returnsv1.MonitoringVisit {
		return &returnsv1.MonitoringVisit{VisitDate: day(2026, 3, 1), EconomicScore: proto.Float64(e), SocialScore: proto.Float64(s), PsychosocialScore: proto.Float64(p)}
	}
	eligibility := func(edit func(d *returnsv1.EligibilityDecision)) error {
		d := eligibleNow()
		edit(d)
		_, err := b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: elig.GetCaseId(), Version: elig.GetVersion(), Decision: d})
		return err
	}
	depart := func(edit func(r *returnsv1.RecordDepartureRequest)) error {
		req := departure(elig)
		edit(req)
		_, err := b.client.RecordDeparture(b.worker, req)
		return err
	}
	assist := func(edit func(a *returnsv1.Assistance)) error {
		a := &returnsv1.Assistance{Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP, Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC,
			Value: &returnsv1.Money{CurrencyCode: "EUR", AmountMinor: 100}, DeliveryDate: day(2026, 2, 20), Provider: "IOM-IRQ"}
		edit(a)
		_, err := b.client.RecordAssistance(b.worker, &returnsv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: re.GetCaseId(), Version: re.GetVersion(), Assistance: a})
		return err
	}
	visit := func(v *returnsv1.MonitoringVisit) error {
		_, err := b.client.RecordMonitoringVisit(b.worker, &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(), CaseId: re.GetCaseId(), Version: re.GetVersion(), Visit: v})
		return err
	}
	tests := []struct {
		name string
		call func() error
		want []string
	}{
		{"eligible with a reason", func() error {
			return eligibility(func(d *returnsv1.EligibilityDecision) {
				d.IneligibilityReason = returnsv1.IneligibilityReason_INELIGIBILITY_REASON_OTHER
			})
		}, []string{"decision.ineligibility_reason"}},
		{"not eligible without a reason", func() error {
			return eligibility(func(d *returnsv1.EligibilityDecision) { d.Eligibility = returnsv1.Eligibility_ELIGIBILITY_NOT_ELIGIBLE })
		}, []string{"decision.ineligibility_reason"}},
		{"decided in the future", func() error {
			return eligibility(func(d *returnsv1.EligibilityDecision) { d.DecisionDate = day(2026, 3, 15) })
		}, []string{"decision.decision_date"}},
		{"decided before counselling", func() error {
			return eligibility(func(d *returnsv1.EligibilityDecision) { d.DecisionDate = day(2026, 1, 11) })
		}, []string{"decision.decision_date"}},
		{"no decision", func() error {
			_, err := b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: elig.GetCaseId(), Version: 1})
			return err
		}, []string{"decision"}},
		{"a booking for one person", func() error {
			_, err := b.client.RecordPreDepartureStep(b.worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(), CaseId: elig.GetCaseId(), Version: elig.GetVersion(),
				Step: &returnsv1.PreDepartureStep{Date: day(2026, 1, 20), SubjectId: elig.GetSubjectId(), Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}}})
			return err
		}, []string{"step.subject_id"}},
		{"a travel document for a stranger", func() error {
			_, err := b.client.RecordPreDepartureStep(b.worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(), CaseId: elig.GetCaseId(), Version: elig.GetVersion(),
				Step: &returnsv1.PreDepartureStep{Date: day(2026, 1, 20), SubjectId: uuid.NewString(), Step: &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT}}})
			return err
		}, []string{"step.subject_id"}},
		{"an unknown return country", func() error { return depart(func(r *returnsv1.RecordDepartureRequest) { r.ReturnCountry = "XYZ" }) }, []string{"return_country"}},
		{"a return to the host country", func() error { return depart(func(r *returnsv1.RecordDepartureRequest) { r.ReturnCountry = "DEU" }) }, []string{"return_country"}},
		{"a lower-case return country", func() error { return depart(func(r *returnsv1.RecordDepartureRequest) { r.ReturnCountry = "irq" }) }, []string{"return_country"}},
		{"departed before eligibility", func() error {
			return depart(func(r *returnsv1.RecordDepartureRequest) { r.DepartureDate = day(2026, 1, 14) })
		}, []string{"departure_date"}},
		{"departing in the future", func() error {
			return depart(func(r *returnsv1.RecordDepartureRequest) { r.DepartureDate = day(2027, 1, 1) })
		}, []string{"departure_date"}},
		{"a stranger travels, not the principal", func() error {
			return depart(func(r *returnsv1.RecordDepartureRequest) { r.TravellingSubjectIds = []string{uuid.NewString()} })
		}, []string{"travelling_subject_ids[0]", "travelling_subject_ids"}},
		{"arrived before departure", func() error {
			_, err := b.client.RecordArrival(b.worker, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: dep.GetCaseId(), Version: dep.GetVersion(),
				Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 2)}})
			return err
		}, []string{"arrival.arrival_date"}},
		{"an empty plan", func() error {
			_, err := b.client.SetReintegrationPlan(b.worker, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: re.GetCaseId(), Version: re.GetVersion(),
				Plan: &returnsv1.ReintegrationPlan{PlanDate: day(2026, 2, 10)}})
			return err
		}, []string{"plan"}},
		{"an unknown currency", func() error { return assist(func(a *returnsv1.Assistance) { a.Value.CurrencyCode = "ABC" }) }, []string{"assistance.value.currency_code"}},
		{"a negative amount", func() error { return assist(func(a *returnsv1.Assistance) { a.Value.AmountMinor = -1 }) }, []string{"assistance.value.amount_minor"}},
		{"a provider in free text", func() error { return assist(func(a *returnsv1.Assistance) { a.Provider = "Mr Hassan's shop" }) }, []string{"assistance.provider"}},
		{"assistance before arrival", func() error { return assist(func(a *returnsv1.Assistance) { a.DeliveryDate = day(2026, 2, 1) }) }, []string{"assistance.delivery_date"}},
		{"assistance to someone who did not return", func() error { return assist(func(a *returnsv1.Assistance) { a.SubjectId = uuid.NewString() }) }, []string{"assistance.subject_id"}},
		{"a score above 1", func() error { return visit(scores(1.5, 0.5, 0.5)) }, []string{"visit.economic_score"}},
		{"a missing dimension score", func() error {
			v := scores(0.5, 0.5, 0.5)
			v.SocialScore = nil
			return visit(v)
		}, []string{"visit.social_score"}},
		{"a composite outside the dimensions", func() error {
			v := scores(0.4, 0.5, 0.6)
			v.CompositeScore = proto.Float64(0.7)
			return visit(v)
		}, []string{"visit.composite_score"}},
		{"an indicator twice", func() error {
			v := scores(0.4, 0.5, 0.6)
			v.Indicators = []*returnsv1.IndicatorScore{{IndicatorId: "ECO-1", Score: 0.2}, {IndicatorId: "ECO-1", Score: 0.3}}
			return visit(v)
		}, []string{"visit.indicators[1].indicator_id"}},
		{"a visit before arrival", func() error {
			v := scores(0.4, 0.5, 0.6)
			v.VisitDate = day(2026, 1, 1)
			return visit(v)
		}, []string{"visit.visit_date"}},
	}
	before := b.stored(t)
	for _, tt := range tests {
		err := tt.call()
		st := testserver.WantCode(t, err, codes.InvalidArgument)
		if diff := cmp.Diff(tt.want, testserver.FieldViolations(st)); diff != "" {
			t.Errorf("%s: field violations (-want +got):\n%s", tt.name, diff)
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused requests changed the database (-before +after):\n%s", diff)
	}
}

func TestPlanRulesAndClosing(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// Assistance outside the plan is refused until the plan provides it.
	re := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION)
	housing := &returnsv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: re.GetCaseId(), Version: re.GetVersion(),
		Assistance: &returnsv1.Assistance{Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_HOUSING, Dimension: returnsv1.Dimension_DIMENSION_SOCIAL,
			DeliveryDate: day(2026, 2, 25), Provider: "UN-HABITAT", SubjectId: re.GetMembers()[1].GetSubjectId()}}
	_, err := b.client.RecordAssistance(b.worker, housing)
	if got := reason(testserver.WantCode(t, err, codes.FailedPrecondition)); got != "NOT_IN_PLAN" {
		t.Errorf("reason %q, want NOT_IN_PLAN", got)
	}
	plan := businessPlan()
	plan.Social = []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_HOUSING}
	revised, err := b.client.SetReintegrationPlan(b.worker, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(),
		CaseId: re.GetCaseId(), Version: re.GetVersion(), Plan: plan})
	if err != nil {
		t.Fatalf("revise the plan: %v", err)
	}
	if n := len(revised.GetReturn().GetReintegrationPlans()); n != 2 {
		t.Errorf("%d plans kept, want both versions", n)
	}
	housing.RequestId, housing.Version = uuid.NewString(), revised.GetReturn().GetVersion()
	done, err := b.client.RecordAssistance(b.worker, housing)
	if err != nil {
		t.Fatalf("housing after the revision: %v", err)
	}
	if done.GetAssistance().GetValue() != nil || done.GetAssistance().GetSubjectId() != re.GetMembers()[1].GetSubjectId() {
		t.Errorf("assistance without value for a household member: %v", done.GetAssistance())
	}

	// Closure reasons must fit the status.
	elig := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)
	for _, r := range []returnsv1.ClosureReason{returnsv1.ClosureReason_CLOSURE_REASON_NOT_ELIGIBLE, returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED} {
		_, err := b.client.CloseReturn(b.worker, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: elig.GetCaseId(), Version: elig.GetVersion(), Reason: r})
		if got := reason(testserver.WantCode(t, err, codes.FailedPrecondition)); got != "CLOSURE_REASON_MISMATCH" {
			t.Errorf("closing an eligible return with %v: reason %q", r, got)
		}
	}

	// Ineligible → closed → reopened by a supervisor with a reason → decided again.
	r := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE)
	r = b.close(t, r, returnsv1.ClosureReason_CLOSURE_REASON_NOT_ELIGIBLE)
	reopen := &returnsv1.ReopenReturnRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Reason: returnsv1.ReopenReason_REOPEN_REASON_NEW_INFORMATION}
	_, err = b.client.ReopenReturn(b.worker, reopen)
	testserver.WantCode(t, err, codes.PermissionDenied)
	noReason := proto.CloneOf(reopen)
	noReason.Reason = returnsv1.ReopenReason_REOPEN_REASON_UNSPECIFIED
	_, err = b.client.ReopenReturn(b.boss, noReason)
	if diff := cmp.Diff([]string{"reason"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("reopening without a reason (-want +got):\n%s", diff)
	}
	reopened, err := b.client.ReopenReturn(b.boss, reopen)
	if err != nil {
		t.Fatalf("ReopenReturn: %v", err)
	}
	got := reopened.GetReturn()
	if got.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE || got.GetClosureReason() != returnsv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		t.Errorf("reopened return: status %v, closure %v", got.GetStatus(), got.GetClosureReason())
	}
	wantChanges := []*returnsv1.StatusChange{
		{From: returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE, To: returnsv1.ReturnStatus_RETURN_STATUS_CLOSED, ClosureReason: returnsv1.ClosureReason_CLOSURE_REASON_NOT_ELIGIBLE},
		{From: returnsv1.ReturnStatus_RETURN_STATUS_CLOSED, To: returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE, ReopenReason: returnsv1.ReopenReason_REOPEN_REASON_NEW_INFORMATION},
	}
	if diff := cmp.Diff(wantChanges, got.GetStatusChanges(), protocmp.Transform(), protocmp.IgnoreFields(&returnsv1.StatusChange{}, "provenance")); diff != "" {
		t.Errorf("status changes (-want +got):\n%s", diff)
	}
	events := b.events(t, r.GetCaseId())
	if diff := cmp.Diff(&returnsv1.ReturnReopened{CaseId: r.GetCaseId(), Mission: "DEU", Version: got.GetVersion(),
		Status: returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE, Reason: returnsv1.ReopenReason_REOPEN_REASON_NEW_INFORMATION},
		events[len(events)-1], protocmp.Transform()); diff != "" {
		t.Errorf("ReturnReopened (-want +got):\n%s", diff)
	}
	again := b.eligible(t, got)
	if again.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE || len(again.GetEligibilityDecisions()) != 2 {
		t.Errorf("decided again: status %v with %d decisions", again.GetStatus(), len(again.GetEligibilityDecisions()))
	}
	first := again.GetEligibilityDecisions()[0]
	if first.GetEligibility() != returnsv1.Eligibility_ELIGIBILITY_NOT_ELIGIBLE ||
		first.GetIneligibilityReason() != returnsv1.IneligibilityReason_INELIGIBILITY_REASON_ALREADY_ASSISTED {
		t.Errorf("the first decision is kept as it was: %v", first)
	}
	if ev := b.events(t, r.GetCaseId())[0].(*returnsv1.EligibilityDecided); ev.GetDecision().GetIneligibilityReason() != returnsv1.IneligibilityReason_INELIGIBILITY_REASON_ALREADY_ASSISTED {
		t.Errorf("EligibilityDecided: %v", ev)
	}
}
