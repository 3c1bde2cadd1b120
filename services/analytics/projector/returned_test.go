package projector_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// departuresOfOneJourney are three cases, each of whose people departs once in fact:
//
//   - HASM, a stranded mother and her son in Libya (host LBY), whose RECEPTION Libya hands
//     over to Niger: Libya's request and then Niger's each record a departure naming both
//     (Niger's from NER to MLI, so that a count under its countries would show), and Niger
//     records the arrival. The departure is recorded twice more: Libya's event delivered
//     again as a new event (a retried write), and a departure by IOM Chad, which holds no
//     part of the case.
//   - HASM, a woman in Libya without hand-over, departed by Libya to Niger.
//   - AVRR, a mother and her son registered by IOM Germany, departed by Germany to Iraq.
func departuresOfOneJourney() []event {
	h, s, k := uuid.NewString(), uuid.NewString(), uuid.NewString()
	hc, sc, kc := journeyCase(h, "LBY", hasm, "LBY", "NER", true), journeyCase(s, "LBY", hasm, "LBY", "NER", false),
		journeyCase(k, "DEU", avrr, "DEU", "IRQ", true)
	return []event{
		{"LBY", &intakev1.CaseRegistered{Case: hc}},
		{"LBY", &intakev1.CaseRegistered{Case: sc}},
		{"DEU", &intakev1.CaseRegistered{Case: kc}},

		decided(h, "LBY", "LBY"),
		accepted(h, "LBY", "NER", hasm, handoverv1.HandoverPart_HANDOVER_PART_RECEPTION),
		departure(hc, "LBY", "LBY", "NER"),
		departure(hc, "NER", "NER", "MLI"),
		{"NER", &hasmv1.ArrivalRecorded{Request: &hasmv1.AssistanceRequest{CaseId: h, Mission: "NER"}}},
		departure(hc, "LBY", "LBY", "NER"),
		departure(hc, "TCD", "LBY", "NER"),

		decided(s, "LBY", "LBY"),
		departure(sc, "LBY", "LBY", "NER"),

		departure(kc, "DEU", "DEU", "IRQ"),
	}
}

// TestPersonReturnedOncePerCase: a person is counted as returned at the first departure of
// their case that names them, under the host and return countries it names, and at no later
// one, whichever mission records it: the HASM journey whose RECEPTION Libya handed over to
// Niger, both recording a departure, counts the mother and her son once each, as the cases
// without hand-over count theirs. ApplyBatch leaves what Apply leaves.
func TestPersonReturnedOncePerCase(t *testing.T) {
	t.Parallel()
	want := []string{
		"CASES_REGISTERED AVRR FEMALE IRQ DEU→ ×1",
		"CASES_REGISTERED HASM FEMALE NER LBY→ ×2",
		"HASM_REQUESTS_APPROVED HASM FEMALE NER LBY→ ×2",
		"PERSONS_RETURNED AVRR FEMALE IRQ DEU→IRQ ×1",
		"PERSONS_RETURNED AVRR MALE IRQ DEU→IRQ ×1",
		"PERSONS_RETURNED HASM FEMALE NER LBY→NER ×2",
		"PERSONS_RETURNED HASM MALE NER LBY→NER ×1",
	}
	single := drainBothWays(t, departuresOfOneJourney())
	if diff := cmp.Diff(want, single.counts(t)); diff != "" {
		t.Errorf("counted (-want +got):\n%s", diff)
	}
	// The rollup HQ reads agrees with the facts.
	if got := single.lines(t, `SELECT format('%s %s', sex, sum(persons)) FROM analytics.rollup
WHERE measure = 'PERSONS_RETURNED' GROUP BY sex ORDER BY 1`); !cmp.Equal(got, []string{"FEMALE 3", "MALE 2"}) {
		t.Errorf("persons returned in the rollup: %q, want [FEMALE 3 MALE 2]", got)
	}
}
