package intakecase

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func record(t *testing.T, mission string, m proto.Message) outbox.Record {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return outbox.Record{Producer: "intake", Type: string(proto.MessageName(m)), Mission: mission, Payload: b}
}

func avrr(id, mission string, v int64, s intakev1.CaseStatus) *intakev1.Case {
	return &intakev1.Case{CaseId: id, Mission: mission, Programme: commonv1.Programme_PROGRAMME_AVRR, Version: v, Status: s}
}

// TestNewest: each case once, in the order of its first event, at its newest version, the
// first of equal versions; other programmes and events without a case passed over; a case
// under two missions refused.
func TestNewest(t *testing.T) {
	t.Parallel()
	const a, b = "0b8e7c1e-5b6a-4d5f-9f0e-2d3c4b5a6978", "1c9f8d2f-6c7b-4e60-8a1f-3e4d5c6b7a89"
	vot := avrr("2da09e30-7d8c-4f71-9b20-4f5e6d7c8b9a", "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED)
	vot.Programme = commonv1.Programme_PROGRAMME_VOT
	records := []outbox.Record{
		record(t, "DEU", &intakev1.CaseRegistered{Case: avrr(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED)}),
		record(t, "NER", &intakev1.CaseRegistered{Case: avrr(b, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED)}),
		record(t, "DEU", &intakev1.CaseRegistered{Case: vot}),
		record(t, "DEU", &intakev1.CaseUpdated{Case: avrr(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE)}),
		record(t, "DEU", &intakev1.PersonErased{CaseId: a}),
		record(t, "DEU", &intakev1.CaseRegistered{Case: avrr(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED)}),
		record(t, "DEU", &intakev1.CaseUpdated{Case: avrr(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_CLOSED)}),
	}
	got, err := Newest(records, commonv1.Programme_PROGRAMME_AVRR)
	if err != nil {
		t.Fatal(err)
	}
	want := []Drained{
		{Mission: "DEU", Case: avrr(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE)},
		{Mission: "NER", Case: avrr(b, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED)},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("Newest (-want +got):\n%s", diff)
	}

	for name, moved := range map[string]outbox.Record{
		"recorded for another mission": record(t, "NER", &intakev1.CaseUpdated{Case: avrr(a, "DEU", 3, intakev1.CaseStatus_CASE_STATUS_ACTIVE)}),
		"naming another mission":       record(t, "DEU", &intakev1.CaseUpdated{Case: avrr(a, "NER", 3, intakev1.CaseStatus_CASE_STATUS_ACTIVE)}),
	} {
		if _, err := Newest(append(records[:1:1], moved), commonv1.Programme_PROGRAMME_AVRR); !errors.Is(err, ErrMixedMissions) {
			t.Errorf("a case's event %s: %v, want ErrMixedMissions", name, err)
		}
	}
	if _, err := Newest([]outbox.Record{{Type: "passage.intake.v1.CaseUpdated", Payload: []byte{0xff}}}, commonv1.Programme_PROGRAMME_AVRR); err == nil {
		t.Error("an event that does not decode was passed over")
	}
}
