package intakecase

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// A projection stores the case's coded person attributes as intake does (enumcode): "FEMALE",
// "18_20", "MEDICAL_NEEDS".

// SexCode is the code a projection stores a person's sex under; Sex reads it back.
func SexCode(s commonv1.Sex) string { return enumcode.Code(s) }

// Sex is the sex SexCode stored as c.
func Sex(c string) commonv1.Sex {
	return enumcode.Value[commonv1.Sex](c)
}

// AgeBandCode is the code a projection stores a person's age band under; AgeBand reads it back.
func AgeBandCode(b commonv1.AgeBand) string { return enumcode.Code(b) }

// AgeBand is the age band AgeBandCode stored as c.
func AgeBand(c string) commonv1.AgeBand {
	return enumcode.Value[commonv1.AgeBand](c)
}

// Vulnerabilities are the vulnerabilities VulnerabilityCodes stored as cs: what a
// projection reads back.
func Vulnerabilities(cs []string) []commonv1.Vulnerability {
	return enumcode.Values[commonv1.Vulnerability](cs)
}

// VulnerabilityCodes are the codes a projection stores a case's vulnerabilities under.
func VulnerabilityCodes(vs []commonv1.Vulnerability) []string {
	return enumcode.Codes(vs)
}
