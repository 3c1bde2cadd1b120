package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
)

// expiryJob names the expiry job: its maintenance declaration (the expiry_reads policy) and
// the actor of the transitions it records.
const expiryJob = "referral_expiry"

// runExpiry expires unanswered referrals every ExpiryInterval until ctx ends.
func (s *Service) runExpiry(ctx context.Context) error {
	t := time.NewTicker(s.cfg.ExpiryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				// A failed pass is retried at the next tick; the error names no one.
				continue
			}
		}
	}
}

// ExpireDue moves every SENT or RECEIVED referral whose respond_by has passed to EXPIRED, each
// in its own mission's transaction, and returns how many it expired. The look-up reads ids and
// deadlines across missions through the job's own policy; a referral answered meanwhile is
// left alone (the status is checked again under the row lock).
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	rows, err := s.db.Maintenance(expiryJob).Query(ctx, `SELECT referral_id, mission FROM referral.referral
WHERE status IN ('SENT', 'RECEIVED') AND respond_by < $1 ORDER BY respond_by LIMIT 500`, s.clock())
	if err != nil {
		return 0, fmt.Errorf("find expired referrals: %w", err)
	}
	type due struct {
		id      uuid.UUID
		mission string
	}
	var all []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.mission); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find expired referrals: %w", err)
		}
		all = append(all, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find expired referrals: %w", err)
	}
	n := 0
	for _, d := range all {
		// Not mutation.Run: the job moves referrals on its own (no caller, no request id to
		// replay, no version read), auditing as the system.
		err := s.db.MissionTx(ctx, d.mission, func(tx pgx.Tx) error {
			r, err := getReferral(ctx, tx, callerScope{mission: d.mission}, d.id, true)
			if err != nil {
				return err
			}
			if (r.Status != sent && r.Status != received) || r.RespondBy == nil || !r.RespondBy.AsTime().Before(s.clock()) {
				return nil
			}
			from := r.Status
			r.Status, r.Version, r.UpdateTime = expired, r.Version+1, s.timestamp()
			b := &pgx.Batch{}
			queueUpdateReferral(b, r)
			// An expired outbound referral is news to its partner; an expired inbound one, which
			// the mission left unanswered, is news too: the partner sent it.
			notify, err := notifies(ctx, tx, r.PartnerId)
			if err != nil {
				return err
			}
			if err := queueMoved(b, moved{r: r, from: from, cause: "expiry", actor: expiryJob, notify: notify}); err != nil {
				return err
			}
			var st database.Statement
			audit.Add(&st, []audit.Entry{{Mission: r.Mission, Actor: expiryJob, Role: "system", CallerMission: r.Mission,
				Method: expiryJob, AggregateID: d.id, Reason: "NO_ANSWER", RequestID: "-"}})
			st.Queue(b)
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
