package returns_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// TestAVRRJourney is the seed's story: a migrant in Germany registered for AVRR, eligible,
// departs to Iraq with two household members, arrives, receives business start-up
// assistance, and is visited twice with rising RSS scores.
func TestAVRRJourney(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.register(t, registration(karim(), relative("Layla", commonv1.Sex_SEX_FEMALE, 1990), relative("Omar", commonv1.Sex_SEX_MALE, 2015)))
	if r.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING || r.GetVersion() != 1 || r.GetHostCountry() != "DEU" || len(r.GetMembers()) != 3 {
		t.Fatalf("a new return: %v", r)
	}
	caseID := r.GetCaseId()

	r = b.eligible(t, r)
	for _, m := range r.GetMembers() {
		r = b.preDeparture(t, r, &returnsv1.PreDepartureStep{Date: day(2026, 1, 20), SubjectId: m.GetSubjectId(),
			Step: &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: commonv1.DocumentType_DOCUMENT_TYPE_EMERGENCY_TRAVEL_DOCUMENT}})
	}
	r = b.preDeparture(t, r, &returnsv1.PreDepartureStep{Date: day(2026, 1, 25),
		Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}})

	dep, err := b.client.RecordDeparture(b.worker, &returnsv1.RecordDepartureRequest{
		RequestId: uuid.NewString(), CaseId: caseID, Version: r.GetVersion(), DepartureDate: day(2026, 2, 3), ReturnCountry: "IRQ"})
	if err != nil {
		t.Fatalf("RecordDeparture: %v", err)
	}
	r = dep.GetReturn()
	if diff := cmp.Diff([]string{r.GetMembers()[0].GetSubjectId(), r.GetMembers()[1].GetSubjectId(), r.GetMembers()[2].GetSubjectId()},
		r.GetDeparture().GetTravellingSubjectIds()); diff != "" {
		t.Errorf("travellers default to everyone (-want +got):\n%s", diff)
	}

	arr, err := b.client.RecordArrival(b.worker, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: r.GetVersion(),
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3), ReceptionAssistance: []returnsv1.ReceptionAssistance{
			returnsv1.ReceptionAssistance_RECEPTION_ASSISTANCE_MEET_AND_ASSIST, returnsv1.ReceptionAssistance_RECEPTION_ASSISTANCE_ONWARD_TRANSPORTATION}}})
	if err != nil {
		t.Fatalf("RecordArrival: %v", err)
	}
	r = b.plan(t, arr.GetReturn())

	ast, err := b.client.RecordAssistance(b.worker, &returnsv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: r.GetVersion(),
		Assistance: &returnsv1.Assistance{
			Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP, Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC,
			Value: &returnsv1.Money{CurrencyCode: "EUR", AmountMinor: 150000}, DeliveryDate: day(2026, 2, 20), Provider: "IOM-IRQ",
		}})
	if err != nil {
		t.Fatalf("RecordAssistance: %v", err)
	}
	r = ast.GetReturn()
	if uuid.Validate(ast.GetAssistance().GetAssistanceId()) != nil || ast.GetAssistance().GetSubjectId() != r.GetSubjectId() {
		t.Errorf("assistance gets an id and goes to the principal by default: %v", ast.GetAssistance())
	}

	var composites []float64
	for i, scores := range [][3]float64{{0.35, 0.5, 0.4}, {0.62, 0.7, 0.66}} {
		v, err := b.client.RecordMonitoringVisit(b.worker, &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: r.GetVersion(),
			Visit: &returnsv1.MonitoringVisit{
				VisitDate:     day(2026, 3, int32(1+i*10)),
				Indicators:    []*returnsv1.IndicatorScore{{IndicatorId: "ECO-1", Score: scores[0]}, {IndicatorId: "SOC-1", Score: scores[1]}},
				EconomicScore: proto.Float64(scores[0]), SocialScore: proto.Float64(scores[1]), PsychosocialScore: proto.Float64(scores[2]),
			}})
		if err != nil {
			t.Fatalf("RecordMonitoringVisit %d: %v", i+1, err)
		}
		r = v.GetReturn()
		composites = append(composites, v.GetVisit().GetCompositeScore())
	}
	if diff := cmp.Diff([]float64{0.4167, 0.66}, composites); diff != "" {
		t.Errorf("composite scores, the mean of the dimensions (-want +got):\n%s", diff)
	}

	got := b.await(t, caseID, func(*returnsv1.Return) bool { return true })
	if diff := cmp.Diff(r, got, protocmp.Transform()); diff != "" {
		t.Errorf("GetReturn returns another return than the last step (-step +get):\n%s", diff)
	}
	if got.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION || got.GetVersion() != 12 {
		t.Errorf("after the journey: status %v version %d, want REINTEGRATION 12", got.GetStatus(), got.GetVersion())
	}
	for i, p := range []*returnsv1.Provenance{got.GetEligibilityDecisions()[0].GetProvenance(), got.GetDeparture().GetProvenance(),
		got.GetMonitoringVisits()[1].GetProvenance()} {
		if p.GetRecordedBy() != "staff-caseworker" || p.GetRecordTime() == nil || p.GetVersion() == 0 {
			t.Errorf("fact %d has no provenance: %v", i, p)
		}
	}

	// The events the next services consume.
	var types []string
	for _, e := range b.events(t, caseID) {
		types = append(types, string(proto.MessageName(e)))
	}
	want := []string{"passage.returns.v1.EligibilityDecided"}
	for range 4 {
		want = append(want, "passage.returns.v1.PreDepartureStepRecorded")
	}
	want = append(want, "passage.common.v1.DepartureRecorded", "passage.returns.v1.ArrivalRecorded",
		"passage.returns.v1.ReintegrationPlanSet", "passage.returns.v1.AssistanceDelivered",
		"passage.returns.v1.MonitoringVisitRecorded", "passage.returns.v1.MonitoringVisitRecorded")
	if diff := cmp.Diff(want, types); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	events := b.events(t, caseID)
	m := got.GetMembers()
	wantDeparture := &commonv1.DepartureRecorded{
		CaseId: caseID, Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, DepartureDate: day(2026, 2, 3),
		HostCountry: "DEU", ReturnCountry: "IRQ",
		Travellers: []*commonv1.TravellingPerson{
			{SubjectId: m[0].GetSubjectId(), Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_30_38, Nationality: "IRQ", Principal: true},
			{SubjectId: m[1].GetSubjectId(), Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_30_38, Nationality: "IRQ"},
			{SubjectId: m[2].GetSubjectId(), Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_9_17, Nationality: "IRQ"},
		},
	}
	if diff := cmp.Diff(wantDeparture, events[5], protocmp.Transform()); diff != "" {
		t.Errorf("DepartureRecorded (-want +got):\n%s", diff)
	}
	wantAssistance := &returnsv1.AssistanceDelivered{CaseId: caseID, Mission: "DEU", Version: 10, ReturnCountry: "IRQ", Assistance: got.GetAssistance()[0]}
	if diff := cmp.Diff(wantAssistance, events[8], protocmp.Transform()); diff != "" {
		t.Errorf("AssistanceDelivered (-want +got):\n%s", diff)
	}
	visit := events[10].(*returnsv1.MonitoringVisitRecorded)
	if visit.GetVisitNumber() != 2 || visit.GetVisit().GetCompositeScore() != 0.66 || visit.GetVersion() != 12 || visit.GetReturnCountry() != "IRQ" {
		t.Errorf("second MonitoringVisitRecorded: %v", visit)
	}

	// Closed when reintegration is complete.
	closed := b.close(t, got, returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED)
	if closed.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_CLOSED ||
		closed.GetClosureReason() != returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED {
		t.Errorf("closed return: %v", closed)
	}
	last := b.events(t, caseID)
	if diff := cmp.Diff(&returnsv1.ReturnClosed{CaseId: caseID, Mission: "DEU", Version: 13,
		ClosedFrom: returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION, Reason: returnsv1.ClosureReason_CLOSURE_REASON_REINTEGRATION_COMPLETED},
		last[len(last)-1], protocmp.Transform()); diff != "" {
		t.Errorf("ReturnClosed (-want +got):\n%s", diff)
	}

	// Nothing identifying went into the events nor the logs.
	logs := b.env.Logs.String()
	if !strings.Contains(logs, "RecordDeparture") {
		t.Fatalf("the server logged no calls; the scan would prove nothing")
	}
	for _, planted := range []string{"Karim", "Al-Rawi", "B7731942", "Layla", "Omar"} {
		for _, e := range last {
			payload, _ := proto.Marshal(e)
			if strings.Contains(string(payload), planted) {
				t.Errorf("%s carries %q", proto.MessageName(e), planted)
			}
		}
		if strings.Contains(logs, planted) {
			t.Errorf("the logs carry %q", planted)
		}
	}
}
