package returns

import (
	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// Coded values are stored as the enum value's name without its prefix ("ELIGIBLE",
// "BUSINESS_START_UP"), as intake stores them: readable in SQL and stable, since protobuf
// value names never change.
//
// Each service's prefixes are alike in shape (one per enum) but name its own enums.
const (
	statusPrefix        = "RETURN_STATUS_"
	eligibilityPrefix   = "ELIGIBILITY_"
	ineligibilityPrefix = "INELIGIBILITY_REASON_"
	documentPrefix      = "DOCUMENT_TYPE_"
	fitPrefix           = "FIT_TO_TRAVEL_"
	modePrefix          = "TRAVEL_MODE_"
	bestInterestsPrefix = "BEST_INTERESTS_"
	riskPrefix          = "RISK_LEVEL_"
	receptionPrefix     = "RECEPTION_ASSISTANCE_"
	dimensionPrefix     = "DIMENSION_"
	assistancePrefix    = "ASSISTANCE_TYPE_"
	closurePrefix       = "CLOSURE_REASON_"
	reopenPrefix        = "REOPEN_REASON_"
	requirementPrefix   = "REQUIREMENT_"
	programmePrefix     = "PROGRAMME_"
	caseStatusPrefix    = "CASE_STATUS_"
)

func statusFromCode(c string) returnsv1.ReturnStatus {
	return enumcode.Value[returnsv1.ReturnStatus](returnsv1.ReturnStatus_value, statusPrefix, c)
}

// closedCase is intake's status of a closed case.
const closedCase = intakev1.CaseStatus_CASE_STATUS_CLOSED
