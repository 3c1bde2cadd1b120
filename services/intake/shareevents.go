package intake

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/outbox"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// shareEvents are the hand-over service's events intake applies: the profiles' fields, and
// each acceptance (a share begins) and completion (the share stays, COMPLETED). A hand-over
// declined or withdrawn was never accepted: it never had a share, so its events change nothing
// here.
var shareEvents = []string{
	string(proto.MessageName(&handoverv1.HandoverProfilePublished{})),
	string(proto.MessageName(&handoverv1.HandoverAccepted{})),
	string(proto.MessageName(&handoverv1.HandoverCompleted{})),
}

// applyHandoverEvent applies one event: the consumer's fallback when a drain's batch fails, so
// that a poison event is found and held back alone. It is the batch form with one record.
func applyHandoverEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	return applyHandoverEvents(ctx, tx, []outbox.Record{r})
}

// applyHandoverEvents writes a drain's events in one round trip, in commit order, inside the
// consumer's transaction: a profile under the mission it was published for (HQ), a share and
// its completion under the receiving mission's declaration (migrations/000028). Each write is
// idempotent, so a drain applied again changes nothing.
func applyHandoverEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	b := &pgx.Batch{}
	for _, r := range records {
		m, err := r.Decode()
		if err != nil {
			return err
		}
		switch e := m.(type) {
		case *handoverv1.HandoverProfilePublished:
			p := e.GetProfile()
			database.QueueMission(b, r.Mission)
			b.Queue(`INSERT INTO intake.handover_profile (programme, version, fields) VALUES ($1, $2, $3)
ON CONFLICT (programme, version) DO NOTHING`, enumcode.Code(p.GetProgramme()), p.GetVersion(), enumcode.Codes(p.GetFields()))
		case *handoverv1.HandoverAccepted:
			if err := queueShare(b, e, r); err != nil {
				return err
			}
		case *handoverv1.HandoverCompleted:
			id, err := uuid.Parse(e.GetHandoverId())
			if err != nil || e.GetToMission() == "" {
				return handoverpart.ErrMalformed
			}
			database.QueueMission(b, e.GetToMission())
			b.Queue(`UPDATE intake.case_share SET status = 'COMPLETED', completed_at = $2
WHERE handover_id = $1 AND status = 'ACCEPTED'`, id, r.OccurredAt.UTC())
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("apply hand-over events: %w", err)
	}
	return nil
}

// queueShare queues the share an acceptance begins: the grant handoverpart reads from it, with
// the profile version and the consent record or legal basis the sharing rests on.
func queueShare(b *pgx.Batch, e *handoverv1.HandoverAccepted, r outbox.Record) error {
	g, _, err := handoverpart.Of(e, r.OccurredAt)
	if err != nil {
		return err
	}
	var consentID *uuid.UUID
	if e.GetConsentId() != "" {
		id, err := uuid.Parse(e.GetConsentId())
		if err != nil {
			return handoverpart.ErrMalformed
		}
		consentID = &id
	}
	var basis *string
	if e.GetLegalBasis() != 0 {
		c := enumcode.Code(e.GetLegalBasis())
		basis = &c
	}
	database.QueueMission(b, g.To)
	b.Queue(`INSERT INTO intake.case_share (handover_id, case_id, mission, from_mission, programme, parts, profile_version,
  consent_id, legal_basis, status, accepted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ACCEPTED', $10) ON CONFLICT (handover_id) DO NOTHING`,
		g.HandoverID, g.CaseID, g.To, g.From, enumcode.Code(g.Programme), enumcode.Codes(g.Parts), e.GetProfileVersion(),
		consentID, basis, g.AcceptedAt)
	return nil
}
