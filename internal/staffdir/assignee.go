package staffdir

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/rpcerr"
)

// Reasons of an assignment refused for its assignee (ErrorInfo.reason, domain ErrorDomain).
const (
	ReasonAssigneeUnknown  = "ASSIGNEE_UNKNOWN"
	ReasonAssigneeInactive = "ASSIGNEE_INACTIVE"
	ReasonAssigneeMission  = "ASSIGNEE_OTHER_MISSION"
)

// CheckAssignee refuses, inside tx, to give work of mission to staffID unless they are an
// active member of mission: FAILED_PRECONDITION naming field, with the reason.
//
// With lock (intake's role, whose update policy covers every row), the member's row is held
// FOR SHARE until tx ends, so that a deactivation (which ends the member's case assignments
// in its own transaction) and a case assignment take turns: either the assignment sees the
// member inactive, or the deactivation sees the assignment and ends it. Another service's
// role may not lock an administrator's entry (row-level security applies its update policy to
// FOR SHARE), so follow-up reads without the lock: a follow-up assigned in the moment between
// its read and a deactivation's commit is released when follow-up applies the deactivation's
// event, unless the assignment commits after that; a window of milliseconds, left open.
func CheckAssignee(ctx context.Context, tx pgx.Tx, mission, staffID, field string, lock bool) error {
	var active bool
	var in string
	sql := `SELECT active, mission FROM intake.staff_member WHERE staff_id = $1`
	if lock {
		sql += ` FOR SHARE`
	}
	err := tx.QueryRow(ctx, sql, staffID).Scan(&active, &in)
	refuse := func(reason, why string) error {
		return rpcerr.FailedPrecondition(ErrorDomain, reason, field+": "+why, map[string]string{"field": field},
			rpcerr.Violation("STAFF", field, why))
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return refuse(ReasonAssigneeUnknown, "not in the staff directory")
	case err != nil:
		return fmt.Errorf("check assignee: %w", err)
	case !active:
		return refuse(ReasonAssigneeInactive, "the staff member is inactive")
	case in != mission:
		return refuse(ReasonAssigneeMission, "the staff member is not of the mission")
	}
	return nil
}
