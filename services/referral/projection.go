package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// withdrawalCause is the cause a consent withdrawal's transitions record.
const withdrawalCause = "consent_withdrawal"

// applyIntakeEvent writes a case, as an intake event describes it, into the projection: the
// pseudonymised Case message, which holds the consent history with intake's in_force flags.
// An event older than the projected version is ignored. Then every outbound referral of the
// case that is not final and rested on consent no longer in force is withdrawn, in the same
// transaction as the consumer's cursor: exactly once, and at once.
func (s *Service) applyIntakeEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	c, err := intakecase.Decode(r)
	if err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	snapshot, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return fmt.Errorf("project case: %w", err)
	}
	// The consumer's transaction reads every mission's events; this event's rows are written
	// under the mission it was recorded for, declared with the first statement.
	tx = database.WithMission(tx, r.Mission)
	tag, err := tx.Exec(ctx, `INSERT INTO referral."case" (case_id, mission, intake_version, snapshot)
VALUES ($1, $2, $3, $4)
ON CONFLICT (case_id) DO UPDATE SET intake_version = EXCLUDED.intake_version, snapshot = EXCLUDED.snapshot
WHERE referral."case".intake_version < EXCLUDED.intake_version`, c.GetCaseId(), c.GetMission(), c.GetVersion(), snapshot)
	if err != nil {
		return fmt.Errorf("project case: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // older than the projection
	}
	return s.withdrawUnconsented(ctx, tx, c)
}

// withdrawUnconsented withdraws the case's live outbound referrals whose consent is no longer
// in force. One resting on a supervisor's override did not rest on consent and stays.
func (s *Service) withdrawUnconsented(ctx context.Context, tx pgx.Tx, c *intakev1.Case) error {
	rows, err := tx.Query(ctx, `SELECT `+referralColumns+` FROM referral.referral
WHERE case_id = $1 AND mission = $2 AND direction = 'OUTBOUND' AND override_reason IS NULL
  AND status IN `+liveStatuses+`
ORDER BY created_at, referral_id FOR UPDATE`, c.GetCaseId(), c.GetMission())
	if err != nil {
		return fmt.Errorf("read referrals to withdraw: %w", err)
	}
	var live []*referralv1.Referral
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			rows.Close()
			return err
		}
		live = append(live, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read referrals to withdraw: %w", err)
	}
	if len(live) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	var records []audit.Entry
	now := s.timestamp()
	for _, r := range live {
		p, err := getPartner(ctx, tx, uuid.MustParse(r.PartnerId), false)
		if err != nil {
			return err
		}
		if sharingConsent(c, p) != nil {
			continue
		}
		from := r.Status
		r.Status, r.Version, r.UpdateTime = withdrawn, r.Version+1, now
		queueUpdateReferral(b, r)
		notify := p.GetConnection().GetKind() == referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK
		if err := queueMoved(b, moved{r: r, from: from, cause: withdrawalCause, actor: withdrawalCause, notify: notify}); err != nil {
			return err
		}
		records = append(records, audit.Entry{Mission: r.Mission, Actor: withdrawalCause, Role: "system", CallerMission: r.Mission,
			Method: withdrawalCause, AggregateID: uuid.MustParse(r.ReferralId), Reason: "CONSENT_WITHDRAWN", RequestID: "-"})
	}
	if len(records) == 0 {
		return nil
	}
	var st database.Statement
	audit.Add(&st, records)
	st.Queue(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("withdraw referrals: %w", err)
	}
	return nil
}

// catchUpWait bounds how long a request waits for intake's events to become readable.
const catchUpWait = 3 * time.Second

// CatchUp applies every intake event committed so far to the projection.
func (s *Service) CatchUp(ctx context.Context) error {
	return s.consumer.CatchUp(ctx, catchUpWait)
}

// catchUpConsent applies any consent change intake committed for the case before the service
// acts on it (see consent.CatchUp).
func (s *Service) catchUpConsent(ctx context.Context, caseID uuid.UUID) error {
	return consent.CatchUp(ctx, s.consumer, caseID, catchUpWait)
}

// getCase reads a case of the mission from the projection.
func getCase(ctx context.Context, q database.Querier, mission string, caseID uuid.UUID) (*intakev1.Case, error) {
	var snapshot []byte
	err := q.QueryRow(ctx, `SELECT snapshot FROM referral."case" WHERE case_id = $1 AND mission = $2`, caseID, mission).Scan(&snapshot)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errCaseNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read case: %w", err)
	}
	c := &intakev1.Case{}
	if err := proto.Unmarshal(snapshot, c); err != nil {
		return nil, fmt.Errorf("read case: %w", err)
	}
	return c, nil
}

// caseFor reads a case of the mission with its latest consents: any consent change intake
// committed is applied first, and a case registered a moment ago is found after one catch-up.
func (s *Service) caseFor(ctx context.Context, mission string, caseID uuid.UUID) (*intakev1.Case, error) {
	if err := s.catchUpConsent(ctx, caseID); err != nil {
		return nil, err
	}
	var c *intakev1.Case
	err := intakecase.Await(ctx, s.consumer, caseID, catchUpWait, isCaseNotFound, func() (err error) {
		c, err = getCase(ctx, s.db.Mission(mission), mission, caseID)
		return err
	})
	return c, err
}
