package trafficking

import (
	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Coded values are stored as the enum value's name without its prefix ("PRESUMED_VICTIM",
// "FORCED_LABOUR"): readable in SQL and stable, since protobuf value names never change.
//
// Each service's prefixes are alike in shape (one per enum) but name its own enums.
const (
	statusPrefix         = "VICTIM_CASE_STATUS_"
	identificationPrefix = "IDENTIFICATION_STATUS_"
	authorityPrefix      = "IDENTIFYING_AUTHORITY_"
	exploitationPrefix   = "EXPLOITATION_TYPE_"
	meansPrefix          = "MEANS_OF_CONTROL_"
	recruiterPrefix      = "RECRUITER_RELATIONSHIP_"
	assistancePrefix     = "ASSISTANCE_TYPE_"
	cooperationPrefix    = "COOPERATION_STATUS_"
	riskLevelPrefix      = "RISK_LEVEL_"
	riskFactorPrefix     = "RISK_FACTOR_"
	closurePrefix        = "CLOSURE_REASON_"
	programmePrefix      = "PROGRAMME_"
	intakeStatusPrefix   = "CASE_STATUS_"
)

func statusFromCode(c string) traffickingv1.VictimCaseStatus {
	return enumcode.Value[traffickingv1.VictimCaseStatus](traffickingv1.VictimCaseStatus_value, statusPrefix, c)
}

func closureFromCode(c string) traffickingv1.ClosureReason {
	return enumcode.Value[traffickingv1.ClosureReason](traffickingv1.ClosureReason_value, closurePrefix, c)
}

func intakeStatusFromCode(c string) intakev1.CaseStatus {
	return enumcode.Value[intakev1.CaseStatus](intakev1.CaseStatus_value, intakeStatusPrefix, c)
}

// statusAfterScreening is the case status a screening outcome puts a case in.
func statusAfterScreening(s traffickingv1.IdentificationStatus) traffickingv1.VictimCaseStatus {
	return statusFromCode(enumcode.Code(s, identificationPrefix))
}
