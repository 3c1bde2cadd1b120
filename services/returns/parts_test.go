package returns

import (
	"testing"

	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// TestPartOf is the programme's mapping of steps to parts: reception, reintegration and
// monitoring after arrival, closing and reopening once the travellers left; everything before
// departure is the case's own mission's, handed over only with the whole case.
func TestPartOf(t *testing.T) {
	tested := map[string]bool{}
	for _, tt := range []struct {
		step     string
		departed bool
		want     handoverv1.HandoverPart
	}{
		{stepEligibility, false, partTransfer},
		{stepSafeguard, false, partTransfer},
		{stepTravel, false, partTransfer},
		{stepDeparture, false, partTransfer},
		{stepArrival, true, partReception},
		{stepPlan, true, partReintegration},
		{stepAssistance, true, partReintegration},
		{stepMonitoring, true, partMonitoring},
		{stepClose, true, partClosure},
		{stepReopen, true, partClosure},
		{stepClose, false, partTransfer},
		{stepReopen, false, partTransfer},
	} {
		if got := partOf(tt.step, tt.departed); got != tt.want {
			t.Errorf("partOf(%s, departed %v) = %v, want %v", tt.step, tt.departed, got, tt.want)
		}
		tested[tt.step] = true
	}
	// Every step of the journey is placed: a new step must be given its part here.
	for step := range allowedIn {
		if !tested[step] {
			t.Errorf("step %s: no part said", step)
		}
	}
}

// TestHolder: the newest grant of a part, or of the whole case, names its holder.
func TestHolder(t *testing.T) {
	rec := &record{grants: grantsFrom([]string{"TUR CLOSURE", "IRQ RECEPTION REINTEGRATION CLOSURE"})}
	for _, tt := range []struct {
		part handoverv1.HandoverPart
		want string
	}{
		{partClosure, "TUR"},
		{partReception, "IRQ"},
		{partMonitoring, ""},
		{partTransfer, ""},
	} {
		if got := rec.holder(tt.part); got != tt.want {
			t.Errorf("holder(%v) = %q, want %q", tt.part, got, tt.want)
		}
	}
	whole := &record{grants: grantsFrom([]string{"NER TRANSFER"})}
	if whole.holder(partMonitoring) != "NER" || whole.holder(partTransfer) != "NER" {
		t.Error("a TRANSFER grant does not give every part")
	}
}
