package followup

import (
	"slices"
	"testing"

	"github.com/passage-cm/passage/internal/handoverpart"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

var (
	avrr = commonv1.Programme_PROGRAMME_AVRR
	vot  = commonv1.Programme_PROGRAMME_VOT
	hasm = commonv1.Programme_PROGRAMME_HASM

	reception     = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	reintegration = handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION
	monitoring    = handoverv1.HandoverPart_HANDOVER_PART_MONITORING
	closure       = handoverv1.HandoverPart_HANDOVER_PART_CLOSURE
	continuing    = handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE
	transfer      = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// TestPartOf: each programme's follow-ups belong to the part whose holder does them, and
// every follow-up a programme's schedule has belongs to one.
func TestPartOf(t *testing.T) {
	want := map[commonv1.Programme]map[followupv1.FollowUpKind]handoverv1.HandoverPart{
		avrr: {arrivalConfirmation: reception, reintegrationPlan: reintegration, monitoringVisit: monitoring},
		vot:  {assistanceReview: continuing},
		hasm: {arrivalConfirmation: reception},
	}
	for programme, kinds := range want {
		for kind, part := range kinds {
			if got, ok := partOf[programme][kind]; !ok || got != part {
				t.Errorf("%v %v belongs to %v (%v), want %v", programme, kind, got, ok, part)
			}
		}
		if len(partOf[programme]) != len(kinds) {
			t.Errorf("%v: %d kinds have a part, want %d", programme, len(partOf[programme]), len(kinds))
		}
	}
	if len(partOf) != len(want) || !slices.Equal(programmes, []commonv1.Programme{avrr, vot, hasm}) {
		t.Errorf("partOf covers %d programmes, the grants kept %v; want AVRR, VoT and HASM", len(partOf), programmes)
	}
}

// TestKindsGranted: a grant gives the follow-ups of its parts, TRANSFER all of its programme's,
// and a part of another programme or without follow-ups (CLOSURE) none.
func TestKindsGranted(t *testing.T) {
	for _, tt := range []struct {
		programme commonv1.Programme
		parts     []handoverv1.HandoverPart
		want      []followupv1.FollowUpKind
	}{
		{avrr, []handoverv1.HandoverPart{reception, monitoring}, []followupv1.FollowUpKind{arrivalConfirmation, monitoringVisit}},
		{avrr, []handoverv1.HandoverPart{reintegration}, []followupv1.FollowUpKind{reintegrationPlan}},
		{avrr, []handoverv1.HandoverPart{transfer}, []followupv1.FollowUpKind{arrivalConfirmation, reintegrationPlan, monitoringVisit}},
		{avrr, []handoverv1.HandoverPart{closure}, nil},
		{vot, []handoverv1.HandoverPart{continuing}, []followupv1.FollowUpKind{assistanceReview}},
		{vot, []handoverv1.HandoverPart{transfer}, []followupv1.FollowUpKind{assistanceReview}},
		{vot, []handoverv1.HandoverPart{reception}, nil},
		{hasm, []handoverv1.HandoverPart{reception}, []followupv1.FollowUpKind{arrivalConfirmation}},
		{commonv1.Programme_PROGRAMME_UNSPECIFIED, []handoverv1.HandoverPart{transfer}, nil},
	} {
		g := handoverpart.Grant{Programme: tt.programme, Parts: tt.parts}
		if got := kindsGranted(g); !slices.Equal(got, tt.want) {
			t.Errorf("%v %v gives %v, want %v", tt.programme, tt.parts, got, tt.want)
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
