package followup

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// Coded values are stored as the enum value's name without its prefix ("MONITORING_VISIT",
// "AVRR"), as the other services store theirs.

// The states as stored.
const (
	stateOpen   = "OPEN"
	stateClosed = "CLOSED"
)

func programmeCode(p commonv1.Programme) string { return enumcode.Code(p) }
func kindCode(k followupv1.FollowUpKind) string { return enumcode.Code(k) }

func programmeFromCode(c string) commonv1.Programme {
	return enumcode.Value[commonv1.Programme](c)
}

func kindFromCode(c string) followupv1.FollowUpKind {
	return enumcode.Value[followupv1.FollowUpKind](c)
}

func outcomeFromCode(c string) followupv1.Outcome {
	return enumcode.Value[followupv1.Outcome](c)
}

func reasonFromCode(c string) followupv1.NotNeededReason {
	return enumcode.Value[followupv1.NotNeededReason](c)
}

// The kinds, shortened.
const (
	arrivalConfirmation = followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION
	reintegrationPlan   = followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN
	monitoringVisit     = followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT
	assistanceReview    = followupv1.FollowUpKind_FOLLOW_UP_KIND_ASSISTANCE_REVIEW
)
