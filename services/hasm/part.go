package hasm

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// partTable holds the grants of accepted hand-overs of HASM cases (handoverpart's columns).
const partTable = "hasm.part"

var (
	reception = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	transfer  = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
)

// stepPart returns the part of a case a field step belongs to, and false for a step of no
// part (HQ's decisions and funds, and reads). hostRequest says the step acts on a request the
// case's own mission made.
//
// HASM's part is RECEPTION, the assistance on arrival at origin: a request made once the
// part is handed over is the receiving mission's, and so are its departure and arrival (the
// disbursement and its confirmation) and its closure. A request the case's own mission made
// (the return from the host country) stays its own and moves only with the whole case
// (TRANSFER).
func stepPart(method string, hostRequest bool) (handoverv1.HandoverPart, bool) {
	switch method {
	case hasmv1.StrandedMigrantService_RequestAssistance_FullMethodName:
		return reception, true
	case hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName,
		hasmv1.StrandedMigrantService_RecordArrival_FullMethodName,
		hasmv1.StrandedMigrantService_CloseRequest_FullMethodName:
		if hostRequest {
			return transfer, true
		}
		return reception, true
	}
	return handoverv1.HandoverPart_HANDOVER_PART_UNSPECIFIED, false
}

// handedOver refuses mission acting the step of part of case caseID, whose own mission is
// own, unless it may take it (handoverpart.Check), as the grants visible to q say: the holder
// of the part may, the case's own mission while no grant gives it away. The caller has found
// the case for acting: a mission that sees no grant of it (a third one) does not find it.
func handedOver(ctx context.Context, q database.Querier, own, acting string, caseID uuid.UUID, part handoverv1.HandoverPart) error {
	holder, err := handoverpart.Holder(ctx, q, partTable, caseID, part)
	if err != nil {
		return err
	}
	return handoverpart.Check(part, own, holder, acting)
}

// projectGrants writes the HASM grants of a drain into hasm.part.
func projectGrants(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	return handoverpart.Project(ctx, tx, records, partTable, commonv1.Programme_PROGRAMME_HASM)
}
