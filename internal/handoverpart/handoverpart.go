package handoverpart

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// Events are the hand-over service's events that give a mission parts of a case.
var Events = []string{string(proto.MessageName(&handoverv1.HandoverAccepted{}))}

// Grant is an accepted hand-over: the parts of one case that the receiving mission now works.
type Grant struct {
	HandoverID uuid.UUID
	CaseID     uuid.UUID
	// From is the sending mission, To the receiving one.
	From, To   string
	Programme  commonv1.Programme
	Parts      []handoverv1.HandoverPart
	AcceptedAt time.Time
}

// Holds reports whether the grant gives part p: p itself is handed over, or the whole case
// (TRANSFER) is.
func (g Grant) Holds(p handoverv1.HandoverPart) bool {
	return slices.Contains(g.Parts, p) || slices.Contains(g.Parts, handoverv1.HandoverPart_HANDOVER_PART_TRANSFER)
}

// ErrMalformed is an acceptance event whose ids do not parse: the hand-over service never
// writes one.
var ErrMalformed = errors.New("handoverpart: an acceptance event with a malformed id")

// Of returns the grant an event of Events carries, recorded at, and whether m is one.
func Of(m proto.Message, at time.Time) (Grant, bool, error) {
	e, ok := m.(*handoverv1.HandoverAccepted)
	if !ok {
		return Grant{}, false, nil
	}
	h, err1 := uuid.Parse(e.GetHandoverId())
	c, err2 := uuid.Parse(e.GetCaseId())
	if err1 != nil || err2 != nil || e.GetToMission() == "" || e.GetFromMission() == "" {
		return Grant{}, true, ErrMalformed
	}
	return Grant{HandoverID: h, CaseID: c, From: e.GetFromMission(), To: e.GetToMission(),
		Programme: e.GetProgramme(), Parts: e.GetParts(), AcceptedAt: at.UTC()}, true, nil
}

// Decode returns the grant the outbox event r carries, and whether it carries one.
func Decode(r outbox.Record) (Grant, bool, error) {
	m, err := r.Decode()
	if err != nil {
		return Grant{}, false, err
	}
	return Of(m, r.OccurredAt)
}

// Project writes the grants of the programmes in a drain into table (schema-qualified, with
// the columns doc.go lists), in one round trip in the consumer's transaction: each under its
// receiving mission's declaration. Events of other types and grants of other programmes are
// passed over; a grant already written is left as it is, so a drain applied again changes
// nothing. It is a consumer's batch handler but for table and programmes.
func Project(ctx context.Context, tx pgx.Tx, records []outbox.Record, table string, programmes ...commonv1.Programme) error {
	b := &pgx.Batch{}
	for _, r := range records {
		g, ok, err := Decode(r)
		if err != nil {
			return err
		}
		if !ok || !slices.Contains(programmes, g.Programme) {
			continue
		}
		parts := make([]string, len(g.Parts))
		for i, p := range g.Parts {
			parts[i] = enumcode.Code(p)
		}
		database.QueueMission(b, g.To)
		b.Queue(`INSERT INTO `+table+` (handover_id, case_id, mission, from_mission, programme, parts, accepted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (handover_id) DO NOTHING`,
			g.HandoverID, g.CaseID, g.To, g.From, enumcode.Code(g.Programme), parts, g.AcceptedAt)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("handoverpart: project grants: %w", err)
	}
	return nil
}

// Holder returns the mission that holds part p of a case as table's rows visible to q say:
// the receiving mission of the newest grant of p (or of the whole case), or "" when no grant
// gives it and the case's own mission works it.
func Holder(ctx context.Context, q database.Querier, table string, caseID uuid.UUID, p handoverv1.HandoverPart) (string, error) {
	var mission string
	err := q.QueryRow(ctx, `SELECT mission FROM `+table+` WHERE case_id = $1 AND parts && $2::text[]
ORDER BY accepted_at DESC, handover_id LIMIT 1`, caseID,
		[]string{enumcode.Code(p), enumcode.Code(handoverv1.HandoverPart_HANDOVER_PART_TRANSFER)}).Scan(&mission)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("handoverpart: holder: %w", err)
	}
	return mission, nil
}

// caseChanges are the events a step on a case must not act ahead of: its consents and the
// acceptance of its hand-overs (filed under the case, not the hand-over).
var caseChanges = slices.Concat(consent.Events, Events)

// CatchUp is consent.CatchUp for a service whose cases may be worked in parts: before a step
// on a case, any consent change of the case and any acceptance of a hand-over of it that the
// consumer c has not applied yet is applied now, so that the mission that handed a part over
// is refused its steps from the moment the acceptance commits, not when the consumer comes
// round. It costs the one indexed look-up consent.CatchUp costs; c must consume both.
func CatchUp(ctx context.Context, c *outbox.Consumer, caseID uuid.UUID, wait time.Duration) error {
	return consent.CatchUpOn(ctx, c, caseID, wait, caseChanges)
}
