package trafficking

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/passage-cm/passage/internal/enumcode"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// TestStepParts is the programme's mapping of steps to parts: assistance and closure are the
// continuing assistance the mission of origin gives after return; identification and what
// comes before return move only with the whole case; ending an assistance record is each
// mission's on its own records. Every mutating RPC of the service must be in the table, so a
// new one gets a decision, not the default.
func TestStepParts(t *testing.T) {
	want := map[string]string{ // request message => part ("" for none)
		"RecordScreeningRequest":                 "TRANSFER",
		"RecordExploitationRequest":              "TRANSFER",
		"RecordLawEnforcementCooperationRequest": "TRANSFER",
		"AssessRiskRequest":                      "TRANSFER",
		"RecordAssistanceRequest":                "CONTINUING_ASSISTANCE",
		"CloseVictimCaseRequest":                 "CONTINUING_ASSISTANCE",
		"EndAssistanceRequest":                   "",
	}
	methods := traffickingv1.File_passage_trafficking_v1_trafficking_proto.Services().ByName("TraffickingService").Methods()
	seen := 0
	for i := range methods.Len() {
		in := methods.Get(i).Input()
		mt, err := protoregistry.GlobalTypes.FindMessageByName(in.FullName())
		if err != nil {
			t.Fatal(err)
		}
		req, ok := mt.New().Interface().(mutatingRequest)
		if !ok {
			continue // a read
		}
		seen++
		name := string(in.Name())
		expected, listed := want[name]
		if !listed {
			t.Errorf("%s: the mutating request has no part in the table", name)
			continue
		}
		got := ""
		if p, ok := partOf(req); ok {
			got = enumcode.Code(p)
		}
		if got != expected {
			t.Errorf("partOf(%s) = %q, want %q", name, got, expected)
		}
	}
	if seen != len(want) {
		t.Errorf("%d mutating RPCs, %d in the table", seen, len(want))
	}
}
