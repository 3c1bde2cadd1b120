package followup

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// Coded values are stored as the enum value's name without its prefix ("MONITORING_VISIT",
// "AVRR"), as the other services store theirs.

const (
	programmePrefix = "PROGRAMME_"
	kindPrefix      = "FOLLOW_UP_KIND_"
	outcomePrefix   = "OUTCOME_"
	reasonPrefix    = "NOT_NEEDED_REASON_"
)

// The states as stored.
const (
	stateOpen   = "OPEN"
	stateClosed = "CLOSED"
)

func programmeCode(p commonv1.Programme) string { return enumcode.Code(p, programmePrefix) }
func kindCode(k followupv1.FollowUpKind) string { return enumcode.Code(k, kindPrefix) }

func programmeFromCode(c string) commonv1.Programme {
	return enumcode.Value[commonv1.Programme](commonv1.Programme_value, programmePrefix, c)
}

func kindFromCode(c string) followupv1.FollowUpKind {
	return enumcode.Value[followupv1.FollowUpKind](followupv1.FollowUpKind_value, kindPrefix, c)
}

func outcomeFromCode(c string) followupv1.Outcome {
	return enumcode.Value[followupv1.Outcome](followupv1.Outcome_value, outcomePrefix, c)
}

func reasonFromCode(c string) followupv1.NotNeededReason {
	return enumcode.Value[followupv1.NotNeededReason](followupv1.NotNeededReason_value, reasonPrefix, c)
}

// The kinds, shortened.
const (
	arrivalConfirmation = followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION
	reintegrationPlan   = followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN
	monitoringVisit     = followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT
	assistanceReview    = followupv1.FollowUpKind_FOLLOW_UP_KIND_ASSISTANCE_REVIEW
)
