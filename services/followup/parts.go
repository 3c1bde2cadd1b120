package followup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// partTable holds the grants of parts of cases (migrations/000029), as internal/handoverpart
// writes and reads them.
const partTable = "followup.part"

// partOf is the part of a case each follow-up kind belongs to, by programme: whoever holds
// the part does the follow-up. AVRR's arrival confirmation is the reception's, its
// reintegration plan the reintegration's, its monitoring visits (the Reintegration
// Sustainability Survey taken at the last) the monitoring's; a VoT assistance review is the
// continuing assistance's; a HASM arrival confirmation (which confirms the disbursement) is the
// reception's. A grant of TRANSFER holds every part (handoverpart.Grant.Holds).
var partOf = map[commonv1.Programme]map[followupv1.FollowUpKind]handoverv1.HandoverPart{
	commonv1.Programme_PROGRAMME_AVRR: {
		arrivalConfirmation: handoverv1.HandoverPart_HANDOVER_PART_RECEPTION,
		reintegrationPlan:   handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION,
		monitoringVisit:     handoverv1.HandoverPart_HANDOVER_PART_MONITORING,
	},
	commonv1.Programme_PROGRAMME_VOT: {
		assistanceReview: handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE,
	},
	commonv1.Programme_PROGRAMME_HASM: {
		arrivalConfirmation: handoverv1.HandoverPart_HANDOVER_PART_RECEPTION,
	},
}

// programmes are the programmes that have follow-ups, whose grants the consumer keeps.
var programmes = []commonv1.Programme{
	commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM,
}

// kindsGranted are the follow-up kinds of g's programme whose parts g gives, in order.
func kindsGranted(g handoverpart.Grant) []followupv1.FollowUpKind {
	var kinds []followupv1.FollowUpKind
	for k, p := range partOf[g.Programme] {
		if g.Holds(p) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// applyGrant applies one accepted hand-over, recorded as r, inside the consumer's
// transaction: it keeps the grant in followup.part, then, declared for the receiving mission,
// takes the case's open follow-ups of the parts granted from the sending mission (the policy
// grant_receiver_takes_open_follow_ups), unassigned, at their next version, and writes a
// FollowUpMoved for each under the receiving mission. Their history stays with them: id, due
// and remind dates, the reminders already written, the events. A grant seen again moves
// nothing: what it moved is no longer the sender's.
func (s *Service) applyGrant(ctx context.Context, tx pgx.Tx, r outbox.Record, g handoverpart.Grant) error {
	if err := handoverpart.Project(ctx, tx, []outbox.Record{r}, partTable, programmes...); err != nil {
		return err
	}
	kinds := kindsGranted(g)
	if len(kinds) == 0 {
		return nil
	}
	if err := database.DeclareMission(ctx, tx, g.To); err != nil {
		return err
	}
	moved, err := queryFollowUps(ctx, tx, s.today(), "move follow-ups", `UPDATE followup.follow_up
SET mission = $1, assignee = '', version = version + 1, updated_at = $2
WHERE case_id = $3 AND programme = $4 AND mission = $5 AND state = 'OPEN' AND kind = ANY($6)
RETURNING `+columns, g.To, s.clock(), g.CaseID, programmeCode(g.Programme), g.From, kindCodes(kinds))
	if err != nil {
		return err
	}
	events := make([]outbox.Event, len(moved))
	for i, f := range moved {
		events[i] = outbox.Event{Producer: producer, AggregateID: caseOf(f), Mission: g.To,
			Payload: &followupv1.FollowUpMoved{FollowUp: f, FromMission: g.From, HandoverId: g.HandoverID.String()}}
	}
	return writeEvents(ctx, tx, events)
}

// missionsOf returns the mission whose follow-ups of each kind p closes or creates: the
// mission that holds the part the kind belongs to (handoverpart.Holder), or else the case's
// own. The grants are read as the event's mission, declared in tx, sees them: the case's own
// mission sees those it sent, a receiving mission those it received. A case without a grant is
// its own mission's alone, and that is the event's mission (no other may write one); with a
// grant, the case's own mission is the grants' sender (only a case's own mission proposes a
// hand-over), so that an event of the receiving mission that creates follow-ups of parts it
// does not hold (an arrival creating the reintegration plan) creates them for the case's own.
func missionsOf(ctx context.Context, tx pgx.Tx, r outbox.Record, p *plan) (map[followupv1.FollowUpKind]string, error) {
	kinds := append(slices.Clone(p.close), p.create...)
	out := make(map[followupv1.FollowUpKind]string, len(kinds))
	var own string
	err := tx.QueryRow(ctx, `SELECT from_mission FROM followup.part WHERE case_id = $1 LIMIT 1`, p.caseID).Scan(&own)
	if errors.Is(err, pgx.ErrNoRows) {
		for _, k := range kinds {
			out[k] = r.Mission
		}
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("grants of the case: %w", err)
	}
	id, err := uuid.Parse(p.caseID)
	if err != nil {
		return nil, fmt.Errorf("grants of the case: %w", err)
	}
	for _, k := range kinds {
		part, ok := partOf[p.programme][k]
		if !ok {
			out[k] = own
			continue
		}
		holder, err := handoverpart.Holder(ctx, tx, partTable, id, part)
		if err != nil {
			return nil, err
		}
		out[k] = cmp.Or(holder, own)
	}
	return out, nil
}
