package stories_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// travelling is the server of the hand-over stories: every programme service, the hand-over
// service and the follow-ups, whose clock the story moves from visit to visit (the programmes
// run on the real clock: every date of the stories is in the past).
type travelling struct {
	*clients
	handover handoverv1.HandoverServiceClient
	followup followupv1.FollowUpServiceClient
	clock    *testtime.Clock
	at       time.Time
}

// setClock moves the follow-up service's "today" to noon of y-m-d.
func (c *travelling) setClock(y, m, d int) {
	next := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	c.clock.Advance(next.Sub(c.at))
	c.at = next
}

func startTravelling(t *testing.T) *travelling {
	t.Helper()
	at := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	clock := testtime.NewClock(at)
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{
		intake.Spec(), returns.Spec(), trafficking.Spec(), hasm.Spec(), handover.Spec(),
		followup.SpecWith(followup.WithClock(clock.Now), followup.WithReminderInterval(time.Hour)),
	}})
	c := &travelling{
		clients: &clients{
			env:         env,
			intake:      intakev1.NewIntakeServiceClient(env.Conn),
			returns:     returnsv1.NewReturnServiceClient(env.Conn),
			trafficking: traffickingv1.NewTraffickingServiceClient(env.Conn),
			hasm:        hasmv1.NewStrandedMigrantServiceClient(env.Conn),
		},
		handover: handoverv1.NewHandoverServiceClient(env.Conn),
		followup: followupv1.NewFollowUpServiceClient(env.Conn),
		clock:    clock, at: at,
	}
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	for _, p := range []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM} {
		must(c.handover.PublishHandoverProfile(hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(), Programme: p,
			Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_AGE_BAND,
				handoverv1.HandoverField_HANDOVER_FIELD_HOUSEHOLD, handoverv1.HandoverField_HANDOVER_FIELD_NAME}}))
	}
	return c
}

// consentsToShare are the principal's ASSISTANCE consent and DATA_SHARING consent with the
// mission the case will be handed to.
func consentsToShare(on *date.Date, with string) []*commonv1.Consent {
	return []*commonv1.Consent{
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: on},
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "IOM-" + with, Date: on},
	}
}

// sharingConsentOf is the id of the case's DATA_SHARING consent record.
func sharingConsentOf(c *intakev1.Case) string {
	for _, x := range c.GetConsents() {
		if x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			return x.GetConsentId()
		}
	}
	return ""
}

// handOver proposes parts of a case from its own mission to another, which accepts; a third
// mission sees the hand-over at no point.
func (c *travelling) handOver(t *testing.T, kase *intakev1.Case, to, third string, purpose handoverv1.HandoverPurpose,
	parts ...handoverv1.HandoverPart,
) *handoverv1.Handover {
	t.Helper()
	from := c.env.As(t, auth.RoleCaseworker, kase.GetMission())
	receiver := c.env.As(t, auth.RoleCaseworker, to)
	h := must(c.handover.ProposeHandover(from, &handoverv1.ProposeHandoverRequest{RequestId: uuid.NewString(),
		CaseId: kase.GetCaseId(), Programme: kase.GetProgramme(), ToMission: to, Parts: parts, Purpose: purpose,
		ConsentId: sharingConsentOf(kase), ProfileVersion: 1})).GetHandover()
	incoming := must(c.handover.ListHandovers(receiver, &handoverv1.ListHandoversRequest{
		Direction: handoverv1.HandoverDirection_HANDOVER_DIRECTION_INCOMING, Status: handoverv1.HandoverStatus_HANDOVER_STATUS_PROPOSED}))
	if !slices.ContainsFunc(incoming.GetHandovers(), func(x *handoverv1.Handover) bool { return x.GetHandoverId() == h.GetHandoverId() }) {
		t.Fatalf("%s does not see the hand-over proposed to it", to)
	}
	outsider := c.env.As(t, auth.RoleCaseworker, third)
	_, err := c.handover.AcceptHandover(outsider, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	wantCode(t, "a third mission accepting the hand-over", err, codes.NotFound)
	_, err = c.handover.GetHandover(outsider, &handoverv1.GetHandoverRequest{HandoverId: h.GetHandoverId()})
	wantCode(t, "a third mission reading the hand-over", err, codes.NotFound)
	return must(c.handover.AcceptHandover(receiver, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})).GetHandover()
}

// TestHandoverStories walks issue 17's three journeys across missions through the public APIs:
// a family sent home from Germany and received, helped and monitored in Iraq; a victim of
// trafficking identified in Thailand and supported home in Myanmar; a stranded migrant in Libya
// who moves on to Niger, which takes the whole case. Each step is taken by the mission that
// should take it and refused to the one that should not.
func TestHandoverStories(t *testing.T) {
	t.Parallel()
	defer stopOnFailedStep(t)
	c := startTravelling(t)
	t.Run("AVRR DEU to IRQ", func(t *testing.T) { defer stopOnFailedStep(t); germanyToIraqHandedOver(t, c) })
	t.Run("VoT THA to MMR", func(t *testing.T) { defer stopOnFailedStep(t); thailandToMyanmar(t, c) })
	t.Run("HASM LBY to NER", func(t *testing.T) { defer stopOnFailedStep(t); libyaToNiger(t, c) })
}

func germanyToIraqHandedOver(t *testing.T, c *travelling) {
	deu, irq, tur := c.env.As(t, auth.RoleCaseworker, "DEU"), c.env.As(t, auth.RoleCaseworker, "IRQ"), c.env.As(t, auth.RoleCaseworker, "TUR")
	irqBoss := c.env.As(t, auth.RoleSupervisor, "IRQ")
	kase := c.register(t, deu, &intakev1.RegisterCaseRequest{
		Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
		Principal: person("Yusuf", "Barzani", commonv1.Sex_SEX_MALE, day(1985, 5, 14), "IRQ"),
		HouseholdMembers: []*commonv1.Person{
			person("Nasrin", "Barzani", commonv1.Sex_SEX_FEMALE, day(1989, 2, 2), "IRQ"),
			person("Dara", "Barzani", commonv1.Sex_SEX_MALE, day(2016, 8, 20), "IRQ"),
		},
		Consents: consentsToShare(day(2025, 1, 10), "IRQ"), RegistrationDate: day(2025, 1, 10),
	})
	id := kase.GetCaseId()

	// Germany counsels the family and finds it eligible, then hands the return's next parts
	// to Iraq before departure, so that Iraq prepares the reception.
	r := must(c.returns.GetReturn(deu, &returnsv1.GetReturnRequest{CaseId: id})).GetReturn()
	r = must(c.returns.RecordEligibility(deu, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
			CounsellingDate: day(2025, 1, 12), DecisionDate: day(2025, 1, 15)}})).GetReturn()
	h := c.handOver(t, kase, "IRQ", "TUR", handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
		handoverv1.HandoverPart_HANDOVER_PART_RECEPTION, handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION,
		handoverv1.HandoverPart_HANDOVER_PART_MONITORING, handoverv1.HandoverPart_HANDOVER_PART_CLOSURE)

	// Germany still takes the steps before departure, and the departure.
	r = must(c.returns.RecordPreDepartureStep(deu, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Step: &returnsv1.PreDepartureStep{Date: day(2025, 1, 25),
			Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}}})).GetReturn()
	r = must(c.returns.RecordDeparture(deu, &returnsv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), DepartureDate: day(2025, 2, 3), ReturnCountry: "IRQ"})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED)

	// The arrival is Iraq's: Germany is told whose it is, Turkey does not find the return.
	_, err := c.returns.RecordArrival(deu, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2025, 2, 3)}})
	wantHandedOver(t, "Germany recording the arrival", err, "IRQ")
	_, err = c.returns.GetReturn(tur, &returnsv1.GetReturnRequest{CaseId: id})
	wantCode(t, "Turkey reading the return", err, codes.NotFound)

	r = must(c.returns.GetReturn(irq, &returnsv1.GetReturnRequest{CaseId: id})).GetReturn()
	r = must(c.returns.RecordArrival(irq, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2025, 2, 3)}})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_ARRIVED)
	must(c.handover.CompleteHandover(irq, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()}))

	// Iraq's supervisor gives the case to one of Iraq's caseworkers, who reads the family's
	// names as the profile allows, for the reintegration plan.
	iraqi := c.env.AsStaff(t, "irq-caseworker-1", auth.RoleCaseworker, "IRQ")
	must(c.intake.AssignCase(irqBoss, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: "irq-caseworker-1"}))
	full := must(c.intake.GetCase(iraqi, &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}))
	if p := full.GetIdentity().GetPrincipal().GetPerson(); p.GetGivenName() != "Yusuf" || p.GetDateOfBirth() != nil {
		t.Errorf("Iraq's caseworker reads the principal as %v; want the name and no date of birth (not in the profile)", p)
	}
	_, err = c.intake.GetCase(tur, &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	wantCode(t, "Turkey reading the family's identity", err, codes.NotFound)

	r = must(c.returns.SetReintegrationPlan(iraqi, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Plan: &returnsv1.ReintegrationPlan{PlanDate: day(2025, 2, 20),
			Economic: []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP}}})).GetReturn()
	r = must(c.returns.RecordAssistance(iraqi, &returnsv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Assistance: &returnsv1.Assistance{Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP,
			Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC, Value: &returnsv1.Money{CurrencyCode: "USD", AmountMinor: 180000},
			DeliveryDate: day(2025, 3, 10), Provider: "IOM-IRQ"}})).GetReturn()
	_, err = c.returns.SetReintegrationPlan(deu, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Plan: &returnsv1.ReintegrationPlan{PlanDate: day(2025, 3, 11),
			Economic: []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP}}})
	wantHandedOver(t, "Germany changing the plan", err, "IRQ")

	// The monitoring visits are Iraq's follow-ups, due at 3, 6 and 12 months after arrival,
	// and its assigned caseworker's own ("what is due for me"); the first is missed and shows
	// overdue in Iraq's list (and in no list of Germany's).
	visits := c.awaitFollowUps(t, irqBoss, id, "Iraq's three monitoring visits, its plan's follow-up done", func(fs []*followupv1.FollowUp) bool {
		return len(visitsOf(fs)) == 3 && slices.ContainsFunc(fs, func(f *followupv1.FollowUp) bool {
			return f.GetKind() == followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN && f.GetOutcome() == followupv1.Outcome_OUTCOME_DONE
		})
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := c.followup.ListFollowUps(iraqi, &followupv1.ListFollowUpsRequest{CaseId: id})
		if err != nil && status.Code(err) != codes.NotFound {
			t.Fatalf("ListFollowUps as Iraq's caseworker: %v", err)
		}
		mine := resp.GetFollowUps()
		if len(visitsOf(mine)) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Iraq's assigned caseworker does not find the visits among their own: %v", mine)
		}
	}
	c.setClock(2025, 5, 20)
	overdue := must(c.followup.ListFollowUps(irqBoss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION,
		State: followupv1.StateFilter_STATE_FILTER_OVERDUE, CaseId: id})).GetFollowUps()
	if len(overdue) != 1 || overdue[0].GetFollowUpId() != visitsOf(visits)[0].GetFollowUpId() || overdue[0].GetMission() != "IRQ" {
		t.Errorf("on 20 May Iraq's overdue follow-ups are %v; want the first monitoring visit", overdue)
	}
	_, err = c.followup.ListFollowUps(c.env.As(t, auth.RoleSupervisor, "DEU"), &followupv1.ListFollowUpsRequest{
		Scope: followupv1.Scope_SCOPE_MISSION, State: followupv1.StateFilter_STATE_FILTER_OVERDUE, CaseId: id})
	wantCode(t, "Germany listing the case's overdue follow-ups", err, codes.NotFound)

	// Then each visit is done: the missed one late, the others on time.
	for _, v := range [][3]int32{{2025, 5, 25}, {2025, 8, 1}, {2026, 2, 1}} {
		r = must(c.returns.RecordMonitoringVisit(iraqi, &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(), CaseId: id,
			Version: r.GetVersion(), Visit: &returnsv1.MonitoringVisit{VisitDate: day(v[0], v[1], v[2]),
				EconomicScore: proto.Float64(0.5), SocialScore: proto.Float64(0.6), PsychosocialScore: proto.Float64(0.6)}})).GetReturn()
	}
	c.awaitFollowUps(t, irqBoss, id, "every visit done", func(fs []*followupv1.FollowUp) bool {
		return !slices.ContainsFunc(visitsOf(fs), func(f *followupv1.FollowUp) bool {
			return f.GetOutcome() != followupv1.Outcome_OUTCOME_DONE
		})
	})
	r = must(c.returns.CloseReturn(iraqi, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_CLOSED)

	// Germany keeps the outcomes of what it handed over, not Iraq's details.
	seen := must(c.returns.GetReturn(deu, &returnsv1.GetReturnRequest{CaseId: id})).GetReturn()
	if seen.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_CLOSED || seen.GetArrival() == nil ||
		seen.GetClosureReason() != returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED {
		t.Errorf("Germany sees the return as %v, closure %v, arrival %v; want CLOSED, REINTEGRATION_COMPLETED, the arrival",
			seen.GetStatus(), seen.GetClosureReason(), seen.GetArrival())
	}
	if len(seen.GetReintegrationPlans()) != 0 || len(seen.GetAssistance()) != 0 || len(seen.GetMonitoringVisits()) != 0 {
		t.Errorf("Germany sees Iraq's details: %d plans, %d assistance, %d visits", len(seen.GetReintegrationPlans()), len(seen.GetAssistance()), len(seen.GetMonitoringVisits()))
	}

	// Each step's event is the acting mission's, and the departure is counted once.
	wantMissions(t, c.env, id, []string{"DEU", "DEU", "DEU", "IRQ", "IRQ", "IRQ", "IRQ", "IRQ", "IRQ", "IRQ"},
		"passage.returns.v1.EligibilityDecided", "passage.returns.v1.PreDepartureStepRecorded", "passage.common.v1.DepartureRecorded",
		"passage.returns.v1.ArrivalRecorded", "passage.returns.v1.ReintegrationPlanSet", "passage.returns.v1.AssistanceDelivered",
		"passage.returns.v1.MonitoringVisitRecorded", "passage.returns.v1.MonitoringVisitRecorded", "passage.returns.v1.MonitoringVisitRecorded",
		"passage.returns.v1.ReturnClosed")
}

func thailandToMyanmar(t *testing.T, c *travelling) {
	tha, mmr, lao := c.env.As(t, auth.RoleCaseworker, "THA"), c.env.As(t, auth.RoleCaseworker, "MMR"), c.env.As(t, auth.RoleCaseworker, "LAO")
	kase := c.register(t, tha, &intakev1.RegisterCaseRequest{
		Mission: "THA", Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "THA",
		Principal:       person("Khin", "Myat", commonv1.Sex_SEX_FEMALE, day(2000, 3, 9), "MMR"),
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING},
		Consents:        consentsToShare(day(2025, 1, 5), "MMR"), RegistrationDate: day(2025, 1, 5),
	})
	id := kase.GetCaseId()
	v := must(c.trafficking.GetVictimCase(tha, &traffickingv1.GetVictimCaseRequest{CaseId: id})).GetVictimCase()
	v = must(c.trafficking.RecordScreening(tha, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: v.GetVersion(), Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_GOVERNMENT, Date: day(2025, 1, 8)})).GetVictimCase()
	v = must(c.trafficking.RecordAssistance(tha, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: v.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: day(2025, 1, 8), Provider: "IOM"})).GetVictimCase()

	c.handOver(t, kase, "MMR", "LAO", handoverv1.HandoverPurpose_HANDOVER_PURPOSE_CONTINUING_ASSISTANCE,
		handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE)

	// Myanmar continues the assistance and closes the case; Thailand keeps the identification.
	_, err := c.trafficking.RecordAssistance(tha, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: v.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL, StartDate: day(2025, 2, 1), Provider: "IOM"})
	wantHandedOver(t, "Thailand recording assistance", err, "MMR")
	_, err = c.trafficking.GetVictimCase(lao, &traffickingv1.GetVictimCaseRequest{CaseId: id})
	wantCode(t, "Laos reading the victim case", err, codes.NotFound)
	m := must(c.trafficking.GetVictimCase(mmr, &traffickingv1.GetVictimCaseRequest{CaseId: id})).GetVictimCase()
	_, err = c.trafficking.RecordScreening(mmr, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: m.GetVersion(), Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_NOT_A_VICTIM,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: day(2025, 2, 1)})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Myanmar screening Thailand's identified victim: %v, want FAILED_PRECONDITION", err)
	}
	m = must(c.trafficking.RecordAssistance(mmr, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: m.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL, StartDate: day(2025, 2, 1),
		Provider: "IOM-MMR"})).GetVictimCase()
	m = must(c.trafficking.CloseVictimCase(mmr, &traffickingv1.CloseVictimCaseRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: m.GetVersion(), Reason: traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED})).GetVictimCase()

	seen := must(c.trafficking.GetVictimCase(tha, &traffickingv1.GetVictimCaseRequest{CaseId: id})).GetVictimCase()
	if seen.GetStatus() != m.GetStatus() || seen.GetClosureReason() != traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED {
		t.Errorf("Thailand sees the case as %v (%v); want Myanmar's closure", seen.GetStatus(), seen.GetClosureReason())
	}
	for _, a := range seen.GetAssistance() {
		if a.GetProvider() == "IOM-MMR" {
			t.Errorf("Thailand sees Myanmar's assistance: %v", a)
		}
	}
	wantMissions(t, c.env, id, []string{"THA", "THA", "MMR", "MMR"}, "passage.trafficking.v1.VictimScreened",
		"passage.trafficking.v1.AssistanceProvided", "passage.trafficking.v1.AssistanceProvided", "passage.trafficking.v1.VictimCaseClosed")
}

func libyaToNiger(t *testing.T, c *travelling) {
	lby, ner, mar := c.env.As(t, auth.RoleCaseworker, "LBY"), c.env.As(t, auth.RoleCaseworker, "NER"), c.env.As(t, auth.RoleCaseworker, "MAR")
	hq := c.env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	must(c.hasm.CreateFund(hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-SAHEL", Year: 2025, Currency: "USD", Budget: 50_000}))
	kase := c.register(t, lby, &intakev1.RegisterCaseRequest{
		Mission: "LBY", Programme: commonv1.Programme_PROGRAMME_HASM, HostCountry: "LBY",
		Principal: person("Moussa", "Keita", commonv1.Sex_SEX_MALE, day(1997, 7, 1), "MLI"),
		Consents:  consentsToShare(day(2025, 3, 1), "NER"), RegistrationDate: day(2025, 3, 1),
	})
	id := kase.GetCaseId()

	// Moussa moves on to Niger before any return: Niger takes the whole case.
	c.handOver(t, kase, "NER", "MAR", handoverv1.HandoverPurpose_HANDOVER_PURPOSE_ONWARD_MOVEMENT, handoverv1.HandoverPart_HANDOVER_PART_TRANSFER)
	ask := func(ctx context.Context) (*hasmv1.RequestAssistanceResponse, error) {
		return c.hasm.RequestAssistance(ctx, &hasmv1.RequestAssistanceRequest{RequestId: uuid.NewString(), CaseId: id,
			StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           40_000, Currency: "USD", FundCode: "HASM-SAHEL", FundYear: 2025})
	}
	_, err := ask(lby)
	wantHandedOver(t, "Libya requesting assistance", err, "NER")
	_, err = ask(mar)
	wantCode(t, "Morocco requesting assistance", err, codes.NotFound)

	r := must(ask(ner)).GetRequest()
	r = must(c.hasm.DecideRequest(hq, &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(), CaseId: id, Mission: "NER",
		Version: r.GetVersion(), Decision: hasmv1.Decision_DECISION_APPROVE})).GetRequest()
	r = must(c.hasm.RecordDeparture(ner, &hasmv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), DepartureDate: day(2025, 3, 20), ReturnCountry: "MLI"})).GetRequest()
	r = must(c.hasm.RecordArrival(ner, &hasmv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), ArrivalDate: day(2025, 3, 21)})).GetRequest()
	if r.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED || r.GetMission() != "NER" {
		t.Errorf("Niger's request is %v in %s; want ARRIVED in NER", r.GetStatus(), r.GetMission())
	}
	_, err = c.hasm.GetRequest(lby, &hasmv1.GetRequestRequest{CaseId: id})
	wantCode(t, "Libya reading Niger's request", err, codes.NotFound)
	wantMissions(t, c.env, id, []string{"NER", "NER", "NER", "NER"}, "passage.hasm.v1.AssistanceRequested",
		"passage.hasm.v1.RequestDecided", "passage.common.v1.DepartureRecorded", "passage.hasm.v1.ArrivalRecorded")
}

// awaitFollowUps polls the case's follow-ups as ctx sees them until ok holds (the follow-up
// service applies the programmes' events in the background).
func (c *travelling) awaitFollowUps(t *testing.T, ctx context.Context, caseID, what string, ok func([]*followupv1.FollowUp) bool) []*followupv1.FollowUp {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := c.followup.ListFollowUps(ctx, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION,
			State: followupv1.StateFilter_STATE_FILTER_ALL, CaseId: caseID, PageSize: 100})
		if err == nil && ok(resp.GetFollowUps()) {
			return resp.GetFollowUps()
		}
		if err != nil && status.Code(err) != codes.NotFound {
			t.Fatalf("ListFollowUps: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s: %v", what, resp.GetFollowUps())
		}
	}
}

// visitsOf are the monitoring visits among fs, in due order.
func visitsOf(fs []*followupv1.FollowUp) []*followupv1.FollowUp {
	var out []*followupv1.FollowUp
	for _, f := range fs {
		if f.GetKind() == followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT {
			out = append(out, f)
		}
	}
	return out
}

// wantCode fails the test unless err has code.
func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
	}
}

// wantHandedOver fails the test unless err refuses a step of a part another mission holds,
// naming that mission.
func wantHandedOver(t *testing.T, what string, err error, holder string) {
	t.Helper()
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && st.Code() == codes.FailedPrecondition &&
			info.GetReason() == "PART_HANDED_OVER" && info.GetMetadata()["mission"] == holder {
			return
		}
	}
	t.Errorf("%s: %v, want FAILED_PRECONDITION PART_HANDED_OVER naming %s", what, err, holder)
}

// wantMissions checks the types of the programme services' events about one case, in order,
// and the mission each was recorded for (intake's and the hand-over's events left out).
func wantMissions(t *testing.T, env *testserver.Env, caseID string, missions []string, types ...string) {
	t.Helper()
	var got, gotMissions []string
	for _, producer := range []string{"returns", "trafficking", "hasm"} {
		for _, e := range env.AggregateEvents(t, producer, caseID) {
			got = append(got, e.Type)
			gotMissions = append(gotMissions, e.Mission)
		}
	}
	if !slices.Equal(got, types) || !slices.Equal(gotMissions, missions) {
		t.Errorf("events of case %s: %v recorded for %v; want %v for %v", caseID, got, gotMissions, types, missions)
	}
}
