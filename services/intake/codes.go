package intake

import (
	"strings"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Coded attributes are stored as the enum value's name without its prefix ("AVRR",
// "REGISTERED"): readable in SQL and stable, since protobuf value names never change.

const (
	programmePrefix     = "PROGRAMME_"
	statusPrefix        = "CASE_STATUS_"
	closurePrefix       = "CLOSURE_REASON_"
	sexPrefix           = "SEX_"
	ageBandPrefix       = "AGE_BAND_"
	vulnerabilityPrefix = "VULNERABILITY_"
	purposePrefix       = "CONSENT_PURPOSE_"
)

func code(e interface{ String() string }, prefix string) string {
	return strings.TrimPrefix(e.String(), prefix)
}

func fromCode(values map[string]int32, prefix, c string) int32 {
	return values[prefix+c]
}

func programmeFromCode(c string) commonv1.Programme {
	return commonv1.Programme(fromCode(commonv1.Programme_value, programmePrefix, c))
}

func statusFromCode(c string) intakev1.CaseStatus {
	return intakev1.CaseStatus(fromCode(intakev1.CaseStatus_value, statusPrefix, c))
}

func closureFromCode(c string) intakev1.ClosureReason {
	return intakev1.ClosureReason(fromCode(intakev1.ClosureReason_value, closurePrefix, c))
}

func sexFromCode(c string) commonv1.Sex {
	return commonv1.Sex(fromCode(commonv1.Sex_value, sexPrefix, c))
}

func ageBandFromCode(c string) commonv1.AgeBand {
	return commonv1.AgeBand(fromCode(commonv1.AgeBand_value, ageBandPrefix, c))
}

func purposeFromCode(c string) commonv1.ConsentPurpose {
	return commonv1.ConsentPurpose(fromCode(commonv1.ConsentPurpose_value, purposePrefix, c))
}

func vulnerabilityCodes(vs []commonv1.Vulnerability) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = code(v, vulnerabilityPrefix)
	}
	return out
}

func vulnerabilitiesFromCodes(cs []string) []commonv1.Vulnerability {
	out := make([]commonv1.Vulnerability, len(cs))
	for i, c := range cs {
		out[i] = commonv1.Vulnerability(fromCode(commonv1.Vulnerability_value, vulnerabilityPrefix, c))
	}
	return out
}

// storedSex records an unspecified sex as unknown: the case record always says which.
func storedSex(s commonv1.Sex) commonv1.Sex {
	if s == commonv1.Sex_SEX_UNSPECIFIED {
		return commonv1.Sex_SEX_UNKNOWN
	}
	return s
}
