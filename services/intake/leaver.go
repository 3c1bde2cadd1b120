package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
)

// A leaver's cases (services/intake/staff's DeactivateStaff): every case of the mission
// assigned to the member is unassigned in the deactivation's transaction, as UnassignCase
// unassigns one, so that the case appears in the mission's unassigned caseload and follow-up,
// which follows CaseAssignmentChanged, stops giving the member its follow-ups.

// leaverCases lists the cases of mission staffID is assigned to, in case id order.
func leaverCases(ctx context.Context, tx pgx.Tx, mission, staffID string) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT case_id FROM intake.case_assignment WHERE mission = $1 AND staff_id = $2 ORDER BY case_id`,
		mission, staffID)
	if err != nil {
		return nil, fmt.Errorf("a leaver's cases: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("a leaver's cases: %w", err)
	}
	return ids, nil
}

// lockAssignments takes, in tx, the lock the changes of case id's assignments take turns on
// (assignmentKind's, and a leaver's deactivation's).
func lockAssignments(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('intake.case_assignment'), hashtext($1::text))`, id.String()); err != nil {
		return fmt.Errorf("lock case assignments: %w", err)
	}
	return nil
}

// LockAssignments takes, in tx (declared for mission), the assignment lock of every case of
// mission staffID is assigned to, in case id order: a deactivation takes them before it
// writes anything, as AssignCase and UnassignCase do, so that its events follow theirs in
// the outbox's order.
func (s *Service) LockAssignments(ctx context.Context, tx pgx.Tx, mission, staffID string) error {
	ids, err := leaverCases(ctx, tx, mission, staffID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := lockAssignments(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// EndAssignments unassigns staffID from every case of mission they are assigned to, inside
// tx (declared for mission, the member's row locked): for each, the case's locks, the
// assignment deleted, CaseAssignmentChanged published and an audit record by who on the case,
// queued on b. A case whose share with the mission has ended loses the assignment without an
// event: nothing of the mission follows it any more. It returns how many cases it unassigned.
func (s *Service) EndAssignments(ctx context.Context, tx pgx.Tx, b *pgx.Batch, who auth.Claims, mission, staffID string) (int, error) {
	ids, err := leaverCases(ctx, tx, mission, staffID)
	if err != nil {
		return 0, err
	}
	var st database.Statement
	for _, id := range ids {
		if err := lockAssignments(ctx, tx, id); err != nil {
			return 0, err
		}
		c, err := lockCase(ctx, tx, mission, id)
		if err != nil && !errors.Is(err, database.ErrNotFound) {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM intake.case_assignment WHERE case_id = $1 AND staff_id = $2 AND mission = $3`,
			id, staffID, mission); err != nil {
			return 0, fmt.Errorf("unassign a leaver: %w", err)
		}
		if c.id == uuid.Nil {
			continue
		}
		event, err := assignmentChanged(ctx, tx, c, staffID, false)
		if err != nil {
			return 0, err
		}
		if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: id, Mission: mission, Payload: event}}); err != nil {
			return 0, err
		}
		audit.Add(&st, []audit.Entry{audit.For(ctx, who, mission, id)})
	}
	st.Queue(b)
	return len(ids), nil
}
