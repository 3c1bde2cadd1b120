package followup

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
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
