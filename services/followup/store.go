package followup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/pagetoken"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// columns are a follow-up's columns in the order scanFollowUp reads them.
var columns = qualified("")

// qualified is columns, each prefixed (with a table alias and a dot, for statements that join).
func qualified(prefix string) string {
	return fmt.Sprintf(`%[1]sfollow_up_id, %[1]smission, %[1]scase_id, %[1]sprogramme, %[1]skind, %[1]soccurrence,
%[1]sdue_on, %[1]sremind_on, %[1]sstate, %[1]sassignee, coalesce(%[1]soutcome, ''), coalesce(%[1]snot_needed_reason, ''),
%[1]sclosed_on, %[1]sclosed_by, %[1]sversion, %[1]screated_at, %[1]supdated_at`, prefix)
}

// scanFollowUp reads one row of columns; overdue is computed as of today.
func scanFollowUp(row pgx.Row, today time.Time) (*followupv1.FollowUp, error) {
	var (
		f                      followupv1.FollowUp
		id, caseID             uuid.UUID
		programme, kind, state string
		outcome, reason        string
		occurrence             int16
		due, remind            time.Time
		closed                 *time.Time
		created, updated       time.Time
	)
	if err := row.Scan(&id, &f.Mission, &caseID, &programme, &kind, &occurrence, &due, &remind, &state, &f.Assignee,
		&outcome, &reason, &closed, &f.ClosedBy, &f.Version, &created, &updated); err != nil {
		return nil, err
	}
	f.FollowUpId, f.CaseId = id.String(), caseID.String()
	f.Programme, f.Kind, f.Occurrence = programmeFromCode(programme), kindFromCode(kind), int32(occurrence)
	f.DueDate, f.RemindDate = civildate.FromTime(due), civildate.FromTime(remind)
	f.State = followupv1.FollowUpState_FOLLOW_UP_STATE_OPEN
	if state == stateClosed {
		f.State = followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED
		f.Outcome, f.NotNeededReason = outcomeFromCode(outcome), reasonFromCode(reason)
		f.ClosedDate = civildate.FromTime(*closed)
	}
	f.Overdue = state == stateOpen && due.Before(today)
	f.CreateTime, f.UpdateTime = timestamppb.New(created), timestamppb.New(updated)
	return &f, nil
}

// queryFollowUps runs sql, which returns columns, and reads every row it returns; what names
// the statement in its error.
func queryFollowUps(ctx context.Context, q database.Querier, today time.Time, what, sql string, args ...any) ([]*followupv1.FollowUp, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []*followupv1.FollowUp
	for rows.Next() {
		f, err := scanFollowUp(rows, today)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// getFollowUp reads one follow-up of the declared mission; lock holds its row until the
// transaction ends. A follow-up of another mission is not found, as one that does not exist.
func getFollowUp(ctx context.Context, q database.Querier, id uuid.UUID, today time.Time, lock bool) (*followupv1.FollowUp, error) {
	sql := `SELECT ` + columns + ` FROM followup.follow_up WHERE follow_up_id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	f, err := scanFollowUp(q.QueryRow(ctx, sql, id), today)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, database.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get follow-up: %w", err)
	}
	return f, nil
}

// queueUpdate queues the write of f's changeable columns, at its version and update time.
func queueUpdate(b *pgx.Batch, f *followupv1.FollowUp) {
	var outcome, reason *string
	var closed *time.Time
	if f.GetState() == followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED {
		o, r := enumcode.Code(f.GetOutcome()), enumcode.Code(f.GetNotNeededReason())
		outcome, closed = &o, new(civildate.ToTime(f.GetClosedDate()))
		if f.GetNotNeededReason() != followupv1.NotNeededReason_NOT_NEEDED_REASON_UNSPECIFIED {
			reason = &r
		}
	}
	state := stateOpen
	if f.GetState() == followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED {
		state = stateClosed
	}
	b.Queue(`UPDATE followup.follow_up SET state = $2, assignee = $3, outcome = $4, not_needed_reason = $5, closed_on = $6,
closed_by = $7, version = $8, updated_at = $9 WHERE follow_up_id = $1`,
		f.GetFollowUpId(), state, f.GetAssignee(), outcome, reason, closed, f.GetClosedBy(), f.GetVersion(), f.GetUpdateTime().AsTime())
}

// owner says whose follow-ups a list holds. A follow-up is its own assignee's when a
// supervisor assigned it (AssignFollowUp), and otherwise its case's assignees' in intake
// (followup.case_assignee).
type owner int

const (
	ownedByStaff  owner = iota // listFilter.staff's
	ownedByNobody              // neither assigned nor of an assigned case
	ownedByAnyone              // the whole mission's
)

// listFilter is one page of ListFollowUps, its filters as SQL conditions.
type listFilter struct {
	mission   string
	owner     owner
	staff     string // with ownedByStaff
	state     followupv1.StateFilter
	programme string
	caseID    string
	dueBefore *time.Time
	after     *pagetoken.Cursor
	limit     int
}

// listFollowUps lists a page of f, soonest due first. The statement is built from the filters
// the request sets, so that each shape is planned for the index that serves it; only
// constant text is joined, every value is an argument. A staff member's list is two
// branches, each ordered and limited on its own index and merged: the follow-ups assigned to
// them (follow_up_assignee_due), and the unassigned follow-ups of the cases they are
// assigned to (case_assignee_staff, then each case's follow-ups by case id).
func listFollowUps(ctx context.Context, q database.Querier, f listFilter, today time.Time) ([]*followupv1.FollowUp, error) {
	args := []any{f.mission}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := []string{"f.mission = $1"}
	switch f.state {
	case followupv1.StateFilter_STATE_FILTER_DUE:
		t := arg(today) + "::date"
		where = append(where, "f.state = 'OPEN'", "f.remind_on <= "+t, "f.due_on >= "+t)
	case followupv1.StateFilter_STATE_FILTER_OVERDUE:
		where = append(where, "f.state = 'OPEN'", "f.due_on < "+arg(today)+"::date")
	case followupv1.StateFilter_STATE_FILTER_CLOSED:
		where = append(where, "f.state = 'CLOSED'")
	case followupv1.StateFilter_STATE_FILTER_ALL:
	default:
		where = append(where, "f.state = 'OPEN'")
	}
	if f.programme != "" {
		where = append(where, "f.programme = "+arg(f.programme))
	}
	if f.caseID != "" {
		where = append(where, "f.case_id = "+arg(f.caseID)+"::uuid")
	}
	if f.dueBefore != nil {
		where = append(where, "f.due_on < "+arg(*f.dueBefore)+"::date")
	}
	if f.after != nil {
		where = append(where, fmt.Sprintf("(f.due_on, f.follow_up_id) > (%s::date, %s::uuid)", arg(f.after.Time), arg(f.after.ID)))
	}
	conds := strings.Join(where, " AND ")
	page := ` ORDER BY due_on, follow_up_id LIMIT ` + arg(f.limit)
	from := `SELECT ` + qualified("f.") + ` FROM followup.follow_up f`
	var sql string
	switch f.owner {
	case ownedByAnyone:
		sql = from + ` WHERE ` + conds + page
	case ownedByNobody:
		sql = from + ` WHERE ` + conds + ` AND f.assignee = ''
  AND NOT EXISTS (SELECT FROM followup.case_assignee a WHERE a.case_id = f.case_id)` + page
	default:
		staff := arg(f.staff)
		sql = `(` + from + ` WHERE ` + conds + ` AND f.assignee = ` + staff + page + `)
UNION ALL
(` + from + ` JOIN followup.case_assignee a ON a.case_id = f.case_id
  WHERE a.mission = $1 AND a.staff_subject = ` + staff + ` AND ` + conds + ` AND f.assignee = ''` + page + `)` + page
	}
	return queryFollowUps(ctx, q, today, "list follow-ups", sql, args...)
}
