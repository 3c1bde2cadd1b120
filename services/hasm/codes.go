package hasm

import (
	"strings"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Coded attributes are stored as the enum value's name without its prefix ("APPROVED",
// "LOST_DOCUMENTS"): readable in SQL and stable, since protobuf value names never change.

const (
	statusPrefix        = "REQUEST_STATUS_"
	strandedPrefix      = "STRANDED_REASON_"
	noOtherPrefix       = "NO_OTHER_ASSISTANCE_REASON_"
	rejectionPrefix     = "REJECTION_REASON_"
	closurePrefix       = "CLOSURE_REASON_"
	caseStatusPrefix    = "CASE_STATUS_"
	sexPrefix           = "SEX_"
	ageBandPrefix       = "AGE_BAND_"
	vulnerabilityPrefix = "VULNERABILITY_"
)

func code(e interface{ String() string }, prefix string) string {
	return strings.TrimPrefix(e.String(), prefix)
}

func fromCode(values map[string]int32, prefix, c string) int32 {
	return values[prefix+c]
}

func statusFromCode(c string) hasmv1.RequestStatus {
	return hasmv1.RequestStatus(fromCode(hasmv1.RequestStatus_value, statusPrefix, c))
}

func strandedFromCode(c string) hasmv1.StrandedReason {
	return hasmv1.StrandedReason(fromCode(hasmv1.StrandedReason_value, strandedPrefix, c))
}

func noOtherFromCode(c string) hasmv1.NoOtherAssistanceReason {
	return hasmv1.NoOtherAssistanceReason(fromCode(hasmv1.NoOtherAssistanceReason_value, noOtherPrefix, c))
}

func rejectionFromCode(c string) hasmv1.RejectionReason {
	return hasmv1.RejectionReason(fromCode(hasmv1.RejectionReason_value, rejectionPrefix, c))
}

func closureFromCode(c string) hasmv1.ClosureReason {
	return hasmv1.ClosureReason(fromCode(hasmv1.ClosureReason_value, closurePrefix, c))
}

func sexFromCode(c string) commonv1.Sex {
	return commonv1.Sex(fromCode(commonv1.Sex_value, sexPrefix, c))
}

func ageBandFromCode(c string) commonv1.AgeBand {
	return commonv1.AgeBand(fromCode(commonv1.AgeBand_value, ageBandPrefix, c))
}

func vulnerabilitiesFromCodes(cs []string) []commonv1.Vulnerability {
	out := make([]commonv1.Vulnerability, len(cs))
	for i, c := range cs {
		out[i] = commonv1.Vulnerability(fromCode(commonv1.Vulnerability_value, vulnerabilityPrefix, c))
	}
	return out
}

func vulnerabilityCodes(vs []commonv1.Vulnerability) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = code(v, vulnerabilityPrefix)
	}
	return out
}

// intakeClosed is intake's code of a closed case.
var intakeClosed = code(intakev1.CaseStatus_CASE_STATUS_CLOSED, caseStatusPrefix)
