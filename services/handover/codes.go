package handover

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Coded values are stored as the enum value's name without its prefix ("PROPOSED",
// "RECEPTION"), as intake stores them.

func statusCode(s handoverv1.HandoverStatus) string { return enumcode.Code(s) }

func statusOf(c string) handoverv1.HandoverStatus {
	return enumcode.Value[handoverv1.HandoverStatus](c)
}

func programmeCode(p commonv1.Programme) string { return enumcode.Code(p) }

func programmeOf(c string) commonv1.Programme {
	return enumcode.Value[commonv1.Programme](c)
}

func partsOf(cs []string) []handoverv1.HandoverPart {
	return enumcode.Values[handoverv1.HandoverPart](cs)
}

// closedCase is intake's status of a closed case, as the projection stores it.
var closedCase = enumcode.Code(intakev1.CaseStatus_CASE_STATUS_CLOSED)

func partCode(p handoverv1.HandoverPart) string { return enumcode.Code(p) }
