package followup

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/outbox"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// reminderJob names the reminder job's cross-mission read (migrations/000022).
const reminderJob = "followup_reminders"

// reminderBatch bounds the follow-ups one statement marks and writes events for.
const reminderBatch = 500

// runReminders runs Remind every reminderEvery until ctx ends. A failed pass is retried at
// the next tick.
func (s *Service) runReminders(ctx context.Context) error {
	t := time.NewTicker(s.reminderEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Remind(ctx); err != nil && ctx.Err() == nil {
				continue // the error names no one; the next tick tries again
			}
		}
	}
}

// reminder is one of the two reminders a follow-up gets: the column that records it was
// written, the condition that calls for it (on $1, today) and the event.
type reminder struct {
	column, due string
	event       func(*followupv1.FollowUp) proto.Message
}

var reminders = []reminder{
	{column: "due_notified_at", due: "remind_on <= $1::date",
		event: func(f *followupv1.FollowUp) proto.Message { return &followupv1.FollowUpDue{FollowUp: f} }},
	{column: "overdue_notified_at", due: "due_on < $1::date",
		event: func(f *followupv1.FollowUp) proto.Message { return &followupv1.FollowUpOverdue{FollowUp: f} }},
}

// Remind writes FollowUpDue for every open follow-up whose remind date has come and
// FollowUpOverdue for every open follow-up whose due date has passed, once each, and returns
// how many events it wrote. It finds the missions with work across missions through the job's
// own read policy, then marks and writes each mission's in that mission's transactions: the
// mark and the event commit together, and a follow-up marked is never picked again, so that
// replicas running it at once write each event once (a row another holds is skipped).
func (s *Service) Remind(ctx context.Context) (int, error) {
	today := s.today()
	rows, err := s.db.Maintenance(reminderJob).Query(ctx, `SELECT DISTINCT mission FROM followup.follow_up
WHERE state = 'OPEN' AND ((due_notified_at IS NULL AND remind_on <= $1::date) OR (overdue_notified_at IS NULL AND due_on < $1::date))`, today)
	if err != nil {
		return 0, fmt.Errorf("find reminders: %w", err)
	}
	missions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("find reminders: %w", err)
	}
	total := 0
	for _, mission := range missions {
		for _, r := range reminders {
			for {
				n, err := s.remindBatch(ctx, mission, r, today)
				total += n
				if err != nil {
					return total, err
				}
				if n < reminderBatch {
					break
				}
			}
		}
	}
	return total, nil
}

// remindBatch marks up to reminderBatch of mission's follow-ups that call for r and writes
// r's event for each, in one transaction.
func (s *Service) remindBatch(ctx context.Context, mission string, r reminder, today time.Time) (int, error) {
	n := 0
	err := s.db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
		// Chosen once, in a materialised CTE, as closeOpen's.
		fs, err := queryFollowUps(ctx, tx, today, "mark reminders", `WITH target AS MATERIALIZED (SELECT follow_up_id FROM followup.follow_up
  WHERE mission = $3 AND state = 'OPEN' AND `+r.column+` IS NULL AND `+r.due+`
  ORDER BY due_on LIMIT $4 FOR UPDATE SKIP LOCKED)
UPDATE followup.follow_up f SET `+r.column+` = $2
FROM target WHERE f.follow_up_id = target.follow_up_id
RETURNING `+qualified("f."), today, s.clock(), mission, reminderBatch)
		if err != nil {
			return err
		}
		n = len(fs)
		if n == 0 {
			return nil
		}
		events := make([]outbox.Event, n)
		for i, f := range fs {
			events[i] = outbox.Event{Producer: producer, AggregateID: caseOf(f), Mission: mission, Payload: r.event(f)}
		}
		return writeEvents(ctx, tx, events)
	})
	return n, err
}

// caseOf is the case f is of, which its events are filed under in the outbox (as every
// service files its events about a case), so that a case's history and a step's catch-up find
// them by the case; the payload names the follow-up.
func caseOf(f *followupv1.FollowUp) uuid.UUID { return uuid.MustParse(f.GetCaseId()) }
