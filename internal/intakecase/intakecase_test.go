package intakecase

import (
	"testing"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestOfCoversEvents: every event named in Events yields its case, and nothing else does.
func TestOfCoversEvents(t *testing.T) {
	c := &intakev1.Case{CaseId: "0b8e7c1e-5b6a-4d5f-9f0e-2d3c4b5a6978"}
	events := []proto.Message{
		&intakev1.CaseRegistered{Case: c}, &intakev1.CaseUpdated{Case: c}, &intakev1.CaseClosed{Case: c},
		&intakev1.ConsentRecorded{Case: c}, &intakev1.ConsentWithdrawn{Case: c},
	}
	if len(events) != len(Events) {
		t.Fatalf("Events names %d types, the test %d", len(Events), len(events))
	}
	for i, m := range events {
		if got := string(proto.MessageName(m)); got != Events[i] {
			t.Errorf("Events[%d] = %s, want %s", i, Events[i], got)
		}
		if Of(m) != c {
			t.Errorf("Of(%s) did not return its case", proto.MessageName(m))
		}
	}
	if Of(&intakev1.PersonErased{CaseId: c.CaseId}) != nil {
		t.Error("Of(PersonErased) returned a case")
	}
}
