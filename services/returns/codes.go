package returns

import (
	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// Coded values are stored as the enum value's name without its prefix ("ELIGIBLE",
// "BUSINESS_START_UP"), as intake stores them: readable in SQL and stable, since protobuf
// value names never change.

func statusFromCode(c string) returnsv1.ReturnStatus {
	return enumcode.Value[returnsv1.ReturnStatus](c)
}

// closedCase is intake's status of a closed case.
const closedCase = intakev1.CaseStatus_CASE_STATUS_CLOSED
