package hasm

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
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

// PartHandedOverError refuses a mission a step of a part that a hand-over gave to Mission.
type PartHandedOverError struct {
	Part    handoverv1.HandoverPart
	Mission string
}

func (e *PartHandedOverError) Error() string {
	return "the case's " + enumcode.Code(e.Part) + " part is worked by mission " + e.Mission
}

// handedOver returns the PartHandedOverError that refuses mission the step of part of the
// case, as the grants visible to q say, or nil when no grant gives the part to another
// mission. A mission that sees no grant (a third one) is refused nothing here: the case
// itself is not found for it.
func handedOver(ctx context.Context, q database.Querier, mission string, caseID uuid.UUID, part handoverv1.HandoverPart) error {
	holder, err := handoverpart.Holder(ctx, q, partTable, caseID, part)
	if err != nil {
		return err
	}
	if holder == "" || holder == mission {
		return nil
	}
	return &PartHandedOverError{Part: part, Mission: holder}
}

// projectGrants writes the HASM grants of a drain into hasm.part.
func projectGrants(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	return handoverpart.Project(ctx, tx, records, partTable, commonv1.Programme_PROGRAMME_HASM)
}
