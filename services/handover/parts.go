package handover

import (
	"slices"

	"github.com/passage-cm/passage/internal/rpcerr"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

const (
	reception            = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	reintegration        = handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION
	monitoring           = handoverv1.HandoverPart_HANDOVER_PART_MONITORING
	closure              = handoverv1.HandoverPart_HANDOVER_PART_CLOSURE
	continuingAssistance = handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE
	transfer             = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// programmeParts is, per programme, the parts a hand-over may move: what the receiving
// mission does for a person of that programme. TRANSFER, the whole case, is every programme's.
var programmeParts = map[commonv1.Programme][]handoverv1.HandoverPart{
	commonv1.Programme_PROGRAMME_AVRR: {reception, reintegration, monitoring, closure},
	commonv1.Programme_PROGRAMME_VOT:  {continuingAssistance},
	commonv1.Programme_PROGRAMME_HASM: {reception},
}

// checkParts refuses parts the programme does not have, and a TRANSFER beside other parts:
// the whole case goes alone. Its error is INVALID_ARGUMENT on parts.
func checkParts(p commonv1.Programme, parts []handoverv1.HandoverPart) error {
	var v rpcerr.Violations
	if slices.Contains(parts, transfer) && len(parts) > 1 {
		v.Add("parts", "TRANSFER hands the whole case over and goes alone")
	}
	for _, x := range parts {
		if x != transfer && !slices.Contains(programmeParts[p], x) {
			v.Add("parts", partCode(x)+" is not a part of the programme "+programmeCode(p))
		}
	}
	return v.Err()
}

// covered are the parts of the case a hand-over of parts holds while it is open: the parts
// themselves, and for a TRANSFER every part of the programme too, so that a transfer and a
// hand-over of one part cannot both be open (handover.part's unique index).
func covered(p commonv1.Programme, parts []handoverv1.HandoverPart) []handoverv1.HandoverPart {
	if slices.Contains(parts, transfer) {
		return append([]handoverv1.HandoverPart{transfer}, programmeParts[p]...)
	}
	return parts
}
