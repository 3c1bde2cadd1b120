package enumcode

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

func TestCodeAndValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   commonv1.Programme
		code string
		back commonv1.Programme
	}{
		{name: "a value", in: commonv1.Programme_PROGRAMME_AVRR, code: "AVRR", back: commonv1.Programme_PROGRAMME_AVRR},
		{name: "unspecified", in: commonv1.Programme_PROGRAMME_UNSPECIFIED, code: "UNSPECIFIED", back: commonv1.Programme_PROGRAMME_UNSPECIFIED},
		// A number with no name has no code that reads back: it reads as unspecified.
		{name: "unknown number", in: commonv1.Programme(999), code: "999", back: commonv1.Programme_PROGRAMME_UNSPECIFIED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := Code(tt.in)
			if diff := cmp.Diff(tt.code, code); diff != "" {
				t.Errorf("Code(%v) (-want +got):\n%s", tt.in, diff)
			}
			if diff := cmp.Diff(tt.back, Value[commonv1.Programme](code)); diff != "" {
				t.Errorf("Value(%q) (-want +got):\n%s", code, diff)
			}
		})
	}
}

func TestValueOfUnknownCode(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"", "NOT_A_PROGRAMME", "PROGRAMME_AVRR"} {
		if got := Value[commonv1.Programme](c); got != commonv1.Programme_PROGRAMME_UNSPECIFIED {
			t.Errorf("Value(%q) = %v, want PROGRAMME_UNSPECIFIED", c, got)
		}
	}
}

func TestLists(t *testing.T) {
	t.Parallel()
	vs := []commonv1.Vulnerability{
		commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD, commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS,
	}
	tests := []struct {
		name  string
		in    []commonv1.Vulnerability
		codes []string
		back  []commonv1.Vulnerability
	}{
		{name: "values", in: vs, codes: []string{"UNACCOMPANIED_MIGRANT_CHILD", "MEDICAL_NEEDS"}, back: vs},
		{name: "none", in: nil, codes: []string{}, back: []commonv1.Vulnerability{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			codes := Codes(tt.in)
			if codes == nil {
				t.Error("Codes() = nil, want a non-nil slice")
			}
			if diff := cmp.Diff(tt.codes, codes); diff != "" {
				t.Errorf("Codes() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.back, Values[commonv1.Vulnerability](codes)); diff != "" {
				t.Errorf("Values() (-want +got):\n%s", diff)
			}
		})
	}
	if got := Values[commonv1.Vulnerability](nil); got != nil {
		t.Errorf("Values(nil) = %v, want nil", got)
	}
}
