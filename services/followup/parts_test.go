package followup

import (
	"slices"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// TestPartOf: each programme's follow-ups belong to the part whose holder does them, and
// every follow-up a programme's schedule has belongs to one.
func TestPartOf(t *testing.T) {
	want := []struct{ programme, kind, part string }{
		{"AVRR", "ARRIVAL_CONFIRMATION", "RECEPTION"},
		{"AVRR", "REINTEGRATION_PLAN", "REINTEGRATION"},
		{"AVRR", "MONITORING_VISIT", "MONITORING"}, // the Reintegration Sustainability Survey's too
		{"VOT", "ASSISTANCE_REVIEW", "CONTINUING_ASSISTANCE"},
		{"HASM", "ARRIVAL_CONFIRMATION", "RECEPTION"}, // the disbursement's confirmation
	}
	kinds := 0
	for _, tt := range want {
		got, ok := partOf[programmeFromCode(tt.programme)][kindFromCode(tt.kind)]
		if !ok || enumcode.Code(got) != tt.part {
			t.Errorf("%s %s belongs to %v (%v), want %s", tt.programme, tt.kind, got, ok, tt.part)
		}
	}
	for _, ks := range partOf {
		kinds += len(ks)
	}
	if kinds != len(want) || len(partOf) != len(programmes) {
		t.Errorf("partOf has %d kinds of %d programmes, want %d kinds of %v", kinds, len(partOf), len(want), programmes)
	}
	for _, p := range programmes {
		if _, ok := partOf[p]; !ok {
			t.Errorf("%v keeps grants but its follow-ups have no part", p)
		}
	}
}

// TestKindsGranted: a grant gives the follow-ups of its parts, TRANSFER all of its programme's,
// and a part of another programme or without follow-ups (CLOSURE) none.
func TestKindsGranted(t *testing.T) {
	for _, tt := range []struct{ programme, parts, want string }{
		{"AVRR", "RECEPTION MONITORING", "ARRIVAL_CONFIRMATION MONITORING_VISIT"},
		{"AVRR", "REINTEGRATION", "REINTEGRATION_PLAN"},
		{"AVRR", "TRANSFER", "ARRIVAL_CONFIRMATION REINTEGRATION_PLAN MONITORING_VISIT"},
		{"AVRR", "CLOSURE", ""},
		{"VOT", "CONTINUING_ASSISTANCE", "ASSISTANCE_REVIEW"},
		{"VOT", "TRANSFER", "ASSISTANCE_REVIEW"},
		{"VOT", "RECEPTION", ""},
		{"HASM", "RECEPTION", "ARRIVAL_CONFIRMATION"},
		{"UNSPECIFIED", "TRANSFER", ""},
	} {
		g := handoverpart.Grant{Programme: programmeFromCode(tt.programme),
			Parts: enumcode.Values[handoverv1.HandoverPart](strings.Fields(tt.parts))}
		if got := strings.Join(kindCodes(kindsGranted(g)), " "); got != tt.want {
			t.Errorf("%s %s gives %q, want %q", tt.programme, tt.parts, got, tt.want)
		}
	}
}

// TestSplitByMission: an AVRR arrival recorded by the mission that holds the reception and
// the monitoring closes and creates those follow-ups as that mission's, and creates the
// reintegration plan as the case's own mission's.
func TestSplitByMission(t *testing.T) {
	p := planFor(&returnsv1.ArrivalRecorded{CaseId: "c", Arrival: &returnsv1.Arrival{}})
	got := splitByMission(p, map[followupv1.FollowUpKind]string{
		arrivalConfirmation: "IRQ", monitoringVisit: "IRQ", reintegrationPlan: "DEU",
	})
	if len(got) != 2 || got[0].mission != "IRQ" || got[1].mission != "DEU" {
		t.Fatalf("split into %v, want IRQ's then DEU's", got)
	}
	irq, deu := got[0].plan, got[1].plan
	if !slices.Equal(irq.close, []followupv1.FollowUpKind{arrivalConfirmation}) ||
		!slices.Equal(irq.create, []followupv1.FollowUpKind{monitoringVisit}) {
		t.Errorf("IRQ's: close %v, create %v; want the arrival confirmation closed, the visits created", irq.close, irq.create)
	}
	if len(deu.close) != 0 || !slices.Equal(deu.create, []followupv1.FollowUpKind{reintegrationPlan}) {
		t.Errorf("DEU's: close %v, create %v; want the reintegration plan created", deu.close, deu.create)
	}
	if irq.anchor != p.anchor || deu.anchor != p.anchor || deu.outcome != p.outcome || deu.caseID != "c" {
		t.Error("a mission's plan lost the event's anchor, outcome or case")
	}
	if whole := splitByMission(p, map[followupv1.FollowUpKind]string{
		arrivalConfirmation: "DEU", monitoringVisit: "DEU", reintegrationPlan: "DEU",
	}); len(whole) != 1 || len(whole[0].plan.close) != 1 || len(whole[0].plan.create) != 2 {
		t.Errorf("a case without a grant: split into %v, want one plan", whole)
	}
}
