package hasm

import (
	"github.com/passage-cm/passage/internal/enumcode"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Coded attributes are stored as the enum value's name without its prefix ("APPROVED",
// "LOST_DOCUMENTS"): readable in SQL and stable, since protobuf value names never change.

func statusFromCode(c string) hasmv1.RequestStatus {
	return enumcode.Value[hasmv1.RequestStatus](c)
}

func strandedFromCode(c string) hasmv1.StrandedReason {
	return enumcode.Value[hasmv1.StrandedReason](c)
}

func noOtherFromCode(c string) hasmv1.NoOtherAssistanceReason {
	return enumcode.Value[hasmv1.NoOtherAssistanceReason](c)
}

func rejectionFromCode(c string) hasmv1.RejectionReason {
	return enumcode.Value[hasmv1.RejectionReason](c)
}

func closureFromCode(c string) hasmv1.ClosureReason {
	return enumcode.Value[hasmv1.ClosureReason](c)
}

// intakeClosed is intake's code of a closed case.
var intakeClosed = enumcode.Code(intakev1.CaseStatus_CASE_STATUS_CLOSED)
