package analytics_test

import (
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/privacy"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// TestEpsilonCapIsOneNumber reads the contract's rule on DifferentialPrivacy.epsilon from its
// descriptor and holds it equal to privacy.MaxEpsilon: the cap a client is told and the cap
// the ledger and the release enforce cannot drift apart.
func TestEpsilonCapIsOneNumber(t *testing.T) {
	t.Parallel()
	field := (&analyticsv1.DifferentialPrivacy{}).ProtoReflect().Descriptor().Fields().ByName("epsilon")
	if field == nil {
		t.Fatal("DifferentialPrivacy has no field epsilon")
	}
	rules, ok := proto.GetExtension(field.Options(), validate.E_Field).(*validate.FieldRules)
	if !ok || rules.GetDouble() == nil {
		t.Fatalf("DifferentialPrivacy.epsilon has no double rules: %v", rules)
	}
	d := rules.GetDouble()
	if !d.HasLte() || d.GetLte() != privacy.MaxEpsilon {
		t.Errorf("the contract caps epsilon at lte %v (set: %v), the code at privacy.MaxEpsilon = %v", d.GetLte(), d.HasLte(), privacy.MaxEpsilon)
	}
	if !d.HasGt() || d.GetGt() != 0 {
		t.Errorf("the contract's lower bound is gt %v (set: %v), want gt 0 as privacy.Params.Validate", d.GetGt(), d.HasGt())
	}
}
