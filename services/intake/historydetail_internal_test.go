package intake

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestHistoryDetails: an event's details are its codes, dates, numbers and true flags, and of
// its strings only the country and mission codes and staff subjects that look like one; a
// subject id, a case id, a partner, who recorded a consent, a badly formed code, lists of
// records and anything two levels down are left out.
func TestHistoryDetails(t *testing.T) {
	t.Parallel()
	event := &intakev1.ConsentRecorded{
		Case: &intakev1.Case{
			CaseId: "5d3e0c52-8a41-4f6e-9d0b-3c2a1f4e5b6d", Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR,
			Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE, HostCountry: "Berlin, Germany",
			Principal:        &intakev1.CaseMember{SubjectId: "0b9e7c1a-3f2d-4e5a-8b6c-7d8e9f0a1b2c", Nationality: "IRQ"},
			Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability(99)},
			RegistrationDate: &date.Date{Year: 2025, Month: 1},
			Consents:         []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}},
			Version:          4,
		},
		Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true,
			Date: &date.Date{Year: 2025, Month: 1, Day: 10}, Partner: "IOM-IRQ", RecordedBy: "deu-registrar",
			SubjectId: "0b9e7c1a-3f2d-4e5a-8b6c-7d8e9f0a1b2c"},
	}
	want := []*intakev1.HistoryDetail{
		{Field: "case.programme", Value: "AVRR"},
		{Field: "case.status", Value: "ACTIVE"},
		{Field: "case.vulnerabilities", Value: "MEDICAL_NEEDS,99"},
		{Field: "case.registration_date", Value: "2025-01"},
		{Field: "consent.purpose", Value: "DATA_SHARING"},
		{Field: "consent.granted", Value: "true"},
		{Field: "consent.date", Value: "2025-01-10"},
	}
	if diff := cmp.Diff(want, historyDetails(event.ProtoReflect()), cmpDetails); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}

	handedOver := &handoverv1.HandoverAccepted{HandoverId: "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", FromMission: "DEU", ToMission: "IRQ",
		Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION}, Version: 2, ConsentId: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}
	want = []*intakev1.HistoryDetail{
		{Field: "from_mission", Value: "DEU"},
		{Field: "to_mission", Value: "IRQ"},
		{Field: "parts", Value: "RECEPTION"},
	}
	if diff := cmp.Diff(want, historyDetails(handedOver.ProtoReflect()), cmpDetails); diff != "" {
		t.Errorf("hand-over details (-want +got):\n%s", diff)
	}
}

var cmpDetails = cmp.Comparer(func(a, b *intakev1.HistoryDetail) bool {
	return a.GetField() == b.GetField() && a.GetValue() == b.GetValue()
})
