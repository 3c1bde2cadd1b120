package followup

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

// assignmentEvent is intake's event that says who works on a case.
var assignmentEvent = name(&intakev1.CaseAssignmentChanged{})

// applyAssignment keeps followup.case_assignee in step with one CaseAssignmentChanged, inside
// the consumer's transaction declared for the event's mission: the case's assignees become
// the event's. Intake serialises one case's assignment changes, so their events reach the
// consumer in the order they were made and the last one read is the case's current state.
func applyAssignment(ctx context.Context, tx pgx.Tx, r outbox.Record, e *intakev1.CaseAssignmentChanged) error {
	if err := database.DeclareMission(ctx, tx, r.Mission); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM followup.case_assignee WHERE case_id = $1`, e.GetCaseId())
	b.Queue(`INSERT INTO followup.case_assignee (case_id, staff_subject, mission)
SELECT $1, s, $3 FROM unnest($2::text[]) s ON CONFLICT DO NOTHING`, e.GetCaseId(), e.GetAssignees(), r.Mission)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("case assignees: %w", err)
	}
	return nil
}

// leaverEvent is intake's event that a staff member's directory entry changed.
var leaverEvent = name(&staffv1.StaffMemberChanged{})

// releaseLeaver gives back the open follow-ups a supervisor assigned to a staff member who
// was deactivated (StaffMemberChanged, active false), in their mission, inside the consumer's
// transaction: each loses its assignee at a new version, and FollowUpAssigned says so, with
// the leaver as the previous assignee. The follow-ups they had as their case's assignee need
// nothing here: the deactivation unassigned the cases, and CaseAssignmentChanged followed.
// Any other change of a member is none of follow-up's business.
func (s *Service) releaseLeaver(ctx context.Context, tx pgx.Tx, e *staffv1.StaffMemberChanged) error {
	if e.GetActive() {
		return nil
	}
	if err := database.DeclareMission(ctx, tx, e.GetMission()); err != nil {
		return err
	}
	released, err := queryFollowUps(ctx, tx, s.today(), "release a leaver's follow-ups", `UPDATE followup.follow_up
SET assignee = '', version = version + 1, updated_at = $3
WHERE mission = $1 AND assignee = $2 AND state = 'OPEN'
RETURNING `+columns, e.GetMission(), e.GetStaffId(), s.clock())
	if err != nil {
		return err
	}
	events := make([]outbox.Event, 0, len(released))
	for _, f := range released {
		events = append(events, outbox.Event{Producer: producer, AggregateID: caseOf(f), Mission: e.GetMission(),
			Payload: &followupv1.FollowUpAssigned{FollowUp: f, PreviousAssignee: e.GetStaffId()}})
	}
	return writeEvents(ctx, tx, events)
}
