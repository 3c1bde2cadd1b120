package intakecase

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/outbox"
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

// TestDecode: an outbox record of a case event yields its case, one of another event none, and
// one that cannot be decoded an error.
func TestDecode(t *testing.T) {
	record := func(m proto.Message) outbox.Record {
		payload, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return outbox.Record{Type: string(proto.MessageName(m)), Payload: payload}
	}
	c, err := Decode(record(&intakev1.CaseClosed{Case: &intakev1.Case{CaseId: "0b8e7c1e-5b6a-4d5f-9f0e-2d3c4b5a6978"}}))
	if err != nil || c.GetCaseId() != "0b8e7c1e-5b6a-4d5f-9f0e-2d3c4b5a6978" {
		t.Errorf("case event: %v, %v; want its case", c, err)
	}
	if c, err := Decode(record(&intakev1.PersonErased{})); c != nil || err != nil {
		t.Errorf("other event: %v, %v; want no case", c, err)
	}
	if _, err := Decode(outbox.Record{Type: "passage.nothing.v1.Unknown"}); err == nil {
		t.Error("unknown type: no error")
	}
}
