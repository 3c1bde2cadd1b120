package trafficking

import (
	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// Coded values are stored as the enum value's name without its prefix ("PRESUMED_VICTIM",
// "FORCED_LABOUR"): readable in SQL and stable, since protobuf value names never change.

func statusFromCode(c string) traffickingv1.VictimCaseStatus {
	return enumcode.Value[traffickingv1.VictimCaseStatus](c)
}

func closureFromCode(c string) traffickingv1.ClosureReason {
	return enumcode.Value[traffickingv1.ClosureReason](c)
}

func intakeStatusFromCode(c string) intakev1.CaseStatus {
	return enumcode.Value[intakev1.CaseStatus](c)
}

// statusAfterScreening is the case status a screening outcome puts a case in.
func statusAfterScreening(s traffickingv1.IdentificationStatus) traffickingv1.VictimCaseStatus {
	return statusFromCode(enumcode.Code(s))
}
