package intakecase

import (
	"slices"
	"testing"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// TestCodes: the codes are intake's (the value's name without its prefix) and read back.
func TestCodes(t *testing.T) {
	if c := SexCode(commonv1.Sex_SEX_FEMALE); c != "FEMALE" || Sex(c) != commonv1.Sex_SEX_FEMALE {
		t.Errorf("sex code %q reads back as %v", c, Sex(c))
	}
	band := commonv1.AgeBand_AGE_BAND_18_20
	if c := AgeBandCode(band); c != "18_20" || AgeBand(c) != band {
		t.Errorf("age band code %q reads back as %v", c, AgeBand(c))
	}
	vs := []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON}
	cs := VulnerabilityCodes(vs)
	if !slices.Equal(cs, []string{"MEDICAL_NEEDS", "OLDER_PERSON"}) || !slices.Equal(Vulnerabilities(cs), vs) {
		t.Errorf("vulnerability codes %q read back as %v", cs, Vulnerabilities(cs))
	}
}
