package trafficking_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// TestPresumedVictimInThailandReturnsThroughAVRR walks the seed's story: a presumed victim
// identified in Thailand, assisted with shelter and psychosocial support, then returned
// through AVRR, checking every state and every event analytics will count.
func TestPresumedVictimInThailandReturnsThroughAVRR(t *testing.T) {
	t.Parallel()
	b := setup(t)
	registered := b.register(t, registration(thida()))

	// The victim case appears, awaiting screening, under the intake case id and subject id.
	c := b.get(t, registered.GetCaseId())
	want := &traffickingv1.VictimCase{
		CaseId: registered.GetCaseId(), Mission: "THA", Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_AWAITING_SCREENING,
		Version: 1, PrincipalSubjectId: registered.GetSubjectId(), Principal: registered.GetPrincipal(),
		HostCountry: "THA", Vulnerabilities: registered.GetVulnerabilities(), RegistrationDate: day(2026, 3, 14),
		IntakeStatus: intakev1.CaseStatus_CASE_STATUS_REGISTERED, CreateTime: registered.GetCreateTime(), UpdateTime: registered.GetCreateTime(),
	}
	if diff := cmp.Diff(want, c, protocmp.Transform(), intakeConsentFlags); diff != "" {
		t.Fatalf("new victim case (-want +got):\n%s", diff)
	}

	ignoreTime := protocmp.IgnoreFields(&traffickingv1.VictimCase{}, "update_time")
	step := func(name string, got *traffickingv1.VictimCase, err error) *traffickingv1.VictimCase {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want.Version++
		if diff := cmp.Diff(want, got, protocmp.Transform(), ignoreTime, intakeConsentFlags); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(got, b.get(t, got.GetCaseId()), protocmp.Transform()); diff != "" {
			t.Fatalf("%s: GetVictimCase reads another record (-returned +read):\n%s", name, diff)
		}
		return got
	}

	// Screened by IOM as a presumed victim.
	want.Status = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_PRESUMED_VICTIM
	want.Identification = &traffickingv1.Identification{Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: day(2026, 3, 10)}
	screened, err := b.vot.RecordScreening(b.worker, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: 1, Status: want.Identification.Status, IdentifiedBy: want.Identification.IdentifiedBy,
		Date: day(2026, 3, 10)})
	c = step("RecordScreening presumed", screened.GetVictimCase(), err)

	// Exploitation details: forced labour on fishing boats and sexual exploitation, in
	// Thailand and Malaysia, 2023 to 2025.
	want.Exploitation = &traffickingv1.Exploitation{
		Types: []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR,
			traffickingv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL_EXPLOITATION},
		MeansOfControl: []traffickingv1.MeansOfControl{traffickingv1.MeansOfControl_MEANS_OF_CONTROL_DEBT_BONDAGE,
			traffickingv1.MeansOfControl_MEANS_OF_CONTROL_WITHHOLDS_DOCUMENTS, traffickingv1.MeansOfControl_MEANS_OF_CONTROL_RESTRICTS_MOVEMENT},
		RecruiterRelationship:   traffickingv1.RecruiterRelationship_RECRUITER_RELATIONSHIP_FRIEND,
		CountriesOfExploitation: []string{"THA", "MYS"},
		StartYear:               2023, EndYear: 2025,
	}
	exploited, err := b.vot.RecordExploitation(b.worker, &traffickingv1.RecordExploitationRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), Exploitation: want.Exploitation})
	c = step("RecordExploitation", exploited.GetVictimCase(), err)

	// Shelter and psychosocial support.
	shelter, err := b.vot.RecordAssistance(b.worker, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION,
		StartDate: day(2026, 3, 10), Provider: "IOM"})
	if err != nil {
		t.Fatalf("RecordAssistance shelter: %v", err)
	}
	want.Assistance = append(want.Assistance, &traffickingv1.Assistance{AssistanceId: shelter.GetAssistance().GetAssistanceId(),
		Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: day(2026, 3, 10), Provider: "IOM", RecordedBy: "staff-caseworker"})
	c = step("RecordAssistance shelter", shelter.GetVictimCase(), err)
	psychosocial, err := b.vot.RecordAssistance(b.worker, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL,
		StartDate: day(2026, 3, 11), EndDate: day(2026, 3, 13), Provider: "NGO-HOPE"})
	if err != nil {
		t.Fatalf("RecordAssistance psychosocial: %v", err)
	}
	want.Assistance = append(want.Assistance, &traffickingv1.Assistance{AssistanceId: psychosocial.GetAssistance().GetAssistanceId(),
		Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL, StartDate: day(2026, 3, 11), EndDate: day(2026, 3, 13),
		Provider: "NGO-HOPE", RecordedBy: "staff-caseworker"})
	c = step("RecordAssistance psychosocial", psychosocial.GetVictimCase(), err)

	// A risk assessment and cooperation with the police.
	want.RiskAssessment = &traffickingv1.RiskAssessment{Level: traffickingv1.RiskLevel_RISK_LEVEL_MEDIUM, Date: day(2026, 3, 12),
		Factors: []traffickingv1.RiskFactor{traffickingv1.RiskFactor_RISK_FACTOR_TRAFFICKERS_AT_LARGE, traffickingv1.RiskFactor_RISK_FACTOR_OUTSTANDING_DEBT}}
	assessed, err := b.vot.AssessRisk(b.worker, &traffickingv1.AssessRiskRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), Level: want.RiskAssessment.Level, Date: want.RiskAssessment.Date, Factors: want.RiskAssessment.Factors})
	c = step("AssessRisk", assessed.GetVictimCase(), err)
	want.LawEnforcementCooperation = &traffickingv1.LawEnforcementCooperation{
		Status: traffickingv1.CooperationStatus_COOPERATION_STATUS_COOPERATING, Date: day(2026, 3, 12)}
	cooperating, err := b.vot.RecordLawEnforcementCooperation(b.worker, &traffickingv1.RecordLawEnforcementCooperationRequest{
		RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(),
		Status: want.LawEnforcementCooperation.Status, Date: want.LawEnforcementCooperation.Date})
	c = step("RecordLawEnforcementCooperation", cooperating.GetVictimCase(), err)

	// Formally identified by the Thai authorities.
	want.Status = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_IDENTIFIED_VICTIM
	want.Identification = &traffickingv1.Identification{Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_GOVERNMENT, Date: day(2026, 3, 13)}
	identified, err := b.vot.RecordScreening(b.worker, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), Status: want.Identification.Status,
		IdentifiedBy: want.Identification.IdentifiedBy, Date: want.Identification.Date})
	c = step("RecordScreening identified", identified.GetVictimCase(), err)

	// She chooses to return home: intake opens an AVRR case for the same subject, and the
	// victim case shows the link.
	opened, err := b.intake.OpenCase(b.worker, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: c.GetCaseId(),
		Programme: commonv1.Programme_PROGRAMME_AVRR, Consents: registration(thida()).GetConsents()})
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	avrr := opened.GetCase()
	if avrr.GetSubjectId() != c.GetPrincipalSubjectId() {
		t.Errorf("the AVRR case is for subject %s, the victim case for %s", avrr.GetSubjectId(), c.GetPrincipalSubjectId())
	}
	linked := b.await(t, c.GetCaseId(), func(v *traffickingv1.VictimCase) bool { return len(v.GetLinkedCaseIds()) > 0 })
	if diff := cmp.Diff([]string{avrr.GetCaseId()}, linked.GetLinkedCaseIds()); diff != "" {
		t.Errorf("linked cases (-want +got):\n%s", diff)
	}
	if linked.GetVersion() != c.GetVersion() {
		t.Errorf("the link moved the version from %d to %d: a caseworker's next write would fail", c.GetVersion(), linked.GetVersion())
	}
	want.LinkedCaseIds = []string{avrr.GetCaseId()}

	// The shelter ends on departure, and the victim case is closed as returned.
	want.Assistance[0].EndDate = day(2026, 3, 14)
	ended, err := b.vot.EndAssistance(b.worker, &traffickingv1.EndAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), AssistanceId: want.Assistance[0].GetAssistanceId(), EndDate: day(2026, 3, 14)})
	c = step("EndAssistance", ended.GetVictimCase(), err)
	want.Status, want.ClosureReason = traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED, traffickingv1.ClosureReason_CLOSURE_REASON_RETURNED
	closedResp, err := b.vot.CloseVictimCase(b.worker, &traffickingv1.CloseVictimCaseRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), Reason: traffickingv1.ClosureReason_CLOSURE_REASON_RETURNED})
	c = step("CloseVictimCase", closedResp.GetVictimCase(), err)

	// The AVRR case is intake's and the returns service's: this service does not know it.
	if _, err := b.vot.GetVictimCase(b.worker, &traffickingv1.GetVictimCaseRequest{CaseId: avrr.GetCaseId()}); err == nil {
		t.Error("the AVRR case reads as a victim case")
	}

	// The events, in order, each with the record after the change and the fact itself.
	events := b.events(t)
	var types []string
	for _, e := range events {
		types = append(types, string(proto.MessageName(e).Name()))
	}
	wantTypes := []string{"VictimScreened", "ExploitationRecorded", "AssistanceProvided", "AssistanceProvided", "RiskAssessed",
		"LawEnforcementCooperationRecorded", "VictimScreened", "AssistanceProvided", "VictimCaseClosed"}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	wantEvents := []proto.Message{
		&traffickingv1.VictimScreened{Identification: &traffickingv1.Identification{Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM,
			IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: day(2026, 3, 10)},
			PreviousStatus: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_AWAITING_SCREENING},
		&traffickingv1.ExploitationRecorded{Exploitation: want.Exploitation},
		&traffickingv1.AssistanceProvided{Assistance: psychosocial.GetAssistance()},
		&traffickingv1.VictimScreened{Identification: want.Identification, PreviousStatus: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_PRESUMED_VICTIM},
		&traffickingv1.AssistanceProvided{Assistance: want.Assistance[0]},
		&traffickingv1.VictimCaseClosed{Reason: traffickingv1.ClosureReason_CLOSURE_REASON_RETURNED, ClosureDate: day(2026, 3, 14)},
	}
	ignoreCase := protocmp.IgnoreFields(&traffickingv1.VictimScreened{}, "victim_case")
	opts := []cmp.Option{protocmp.Transform(), ignoreCase,
		protocmp.IgnoreFields(&traffickingv1.ExploitationRecorded{}, "victim_case"),
		protocmp.IgnoreFields(&traffickingv1.AssistanceProvided{}, "victim_case"),
		protocmp.IgnoreFields(&traffickingv1.VictimCaseClosed{}, "victim_case")}
	for i, idx := range []int{0, 1, 3, 6, 7, 8} {
		if diff := cmp.Diff(wantEvents[i], events[idx], opts...); diff != "" {
			t.Errorf("event %d %s (-want +got):\n%s", idx, types[idx], diff)
		}
	}
	// Each event carries the record as the change left it: analytics counts an identified
	// victim by type of exploitation from the last screening event alone.
	last := events[6].(*traffickingv1.VictimScreened).GetVictimCase()
	if last.GetVersion() != 8 || last.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_IDENTIFIED_VICTIM ||
		!slices.Equal(last.GetExploitation().GetTypes(), want.Exploitation.GetTypes()) || last.GetPrincipal().GetNationality() != "MMR" {
		t.Errorf("the identification event carries %v", last)
	}
	if diff := cmp.Diff(c, events[8].(*traffickingv1.VictimCaseClosed).GetVictimCase(), protocmp.Transform()); diff != "" {
		t.Errorf("the closing event's record (-returned +event):\n%s", diff)
	}
	if n := b.env.Count(t, "outbox.event WHERE producer = 'trafficking' AND mission <> 'THA'"); n != 0 {
		t.Errorf("%d events carry another mission", n)
	}

	// A closed case lists under CLOSED.
	list, err := b.vot.ListVictimCases(b.worker, &traffickingv1.ListVictimCasesRequest{Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED})
	if err != nil || len(list.GetVictimCases()) != 1 || list.GetVictimCases()[0].GetCaseId() != c.GetCaseId() {
		t.Errorf("ListVictimCases CLOSED = %v, %v", list, err)
	}
}
