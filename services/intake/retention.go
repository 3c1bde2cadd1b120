package intake

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/vault"
)

// retentionBatch is how many people one pass of the retention job looks up at a time; each
// is then erased in a short transaction of its own.
const retentionBatch = 200

// EraseDue erases the identity of every person the policy says is due at now (all their
// cases closed for longer than their programmes' periods), each in its own transaction that
// checks again, under the lock of the person's cases, that they are still due. It returns
// how many it erased.
func (s *Service) EraseDue(ctx context.Context, policy retention.Policy, now time.Time) (int, error) {
	total := 0
	for {
		due, err := retention.FindDue(ctx, s.db.Maintenance("retention"), policy, now, retentionBatch)
		if err != nil {
			return total, err
		}
		erased := 0
		for _, d := range due {
			err := s.db.MissionTx(ctx, d.Mission, func(tx pgx.Tx) error {
				// Lock the person's cases: a case closing or opening for them waits, and the
				// check below sees the outcome.
				if _, err := tx.Exec(ctx, `SELECT FROM intake."case" c JOIN intake.case_member m ON m.case_id = c.case_id
WHERE m.subject_id = $1 FOR UPDATE OF c`, d.SubjectID); err != nil {
					return err
				}
				still, err := retention.IsDue(ctx, tx, policy, now, d.SubjectID)
				if err != nil || !still {
					return err
				}
				e := vault.Erasure{SubjectID: d.SubjectID, Mission: d.Mission, Reason: "RETENTION_EXPIRED",
					By: vault.ErasedByRetention, At: s.clock()}
				if _, err := s.erase(ctx, tx, e, "", operatorAudit(e, "retention")); err != nil {
					return err
				}
				erased++
				return nil
			})
			if err != nil {
				return total + erased, err
			}
		}
		total += erased
		if len(due) < retentionBatch || erased == 0 {
			return total, nil
		}
	}
}

// retentionJob runs EraseDue every interval until ctx ends. A failed pass is logged (counts
// and the error only, never a person) and retried at the next interval.
func (s *Service) retentionJob(policy retention.Policy, interval time.Duration, logger *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			n, err := s.EraseDue(ctx, policy, s.now())
			if err != nil && ctx.Err() == nil {
				logger.ErrorContext(ctx, "retention pass failed", "erased", n, middleware.ErrorAttr(err))
				continue
			}
			logger.InfoContext(ctx, "retention pass", "erased", n)
		}
	}
}
