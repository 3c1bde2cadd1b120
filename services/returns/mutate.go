package returns

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// change applies one step to a locked return: it edits rec.ret in place (appending the new
// fact, which carries p), queues the fact's insert on b, fills the response and returns the
// event to record.
type change func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error)

// mutate runs one step on a return: it locks the return row, replays a retried request,
// checks the version the caller read, that the case is still open in intake and that the
// return's status allows the step and the principal's assistance consent is in force (every
// step but closing needs it), applies the step and writes the fact, the return row, the
// outbox event and the idempotency record in the same transaction. Any consent change intake
// committed for the case is applied first (consent.CatchUp), so a withdrawal takes effect at
// once, not when the background consumer comes round.
//
// The row lock comes before the idempotency look-up on purpose: two racing retries of one
// request queue on the lock, and the second then finds the first one's result instead of
// failing on the version the first one moved. A return not found may belong to a case intake
// registered a moment ago: the projection catches up once and the step is tried again.
func (s *Service) mutate(ctx context.Context, who auth.Claims, key idempotency.Key, step, caseID string, version int64,
	resp proto.Message, apply change,
) error {
	id, err := parseCaseID(caseID)
	if err != nil {
		return err
	}
	attempt := func() error {
		return s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
			rec, err := getReturn(ctx, tx, who.Mission, id, true)
			if err != nil {
				return err
			}
			if replayed, err := s.idem.Replay(ctx, tx, key, resp); replayed || err != nil {
				return err
			}
			r := rec.ret
			if r.Version != version {
				return &StaleVersionError{CaseID: caseID, Current: r.Version}
			}
			if rec.caseClosed && step != stepClose {
				return &RuleError{Reason: "CASE_CLOSED", Subject: "cases/" + caseID,
					Message: "the case is closed in intake: the return can only be closed"}
			}
			if !rec.assistanceAllowed && step != stepClose {
				return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
			}
			if err := checkStep(step, r.Status); err != nil {
				return err
			}
			now := s.clock()
			b := &pgx.Batch{}
			event, err := apply(rec, b, &returnsv1.Provenance{Version: version + 1, RecordedBy: who.Subject, RecordTime: timestamppb.New(now)})
			if err != nil {
				return err
			}
			r.Version = version + 1
			r.UpdateTime = timestamppb.New(now)
			setUnmet(r)
			queueUpdateReturn(b, rec)
			if err := outbox.Queue(b, outbox.Event{Producer: producer, AggregateID: id, Mission: r.Mission, Payload: event}); err != nil {
				return err
			}
			audit.Queue(b, audit.For(ctx, who, r.Mission, id).WithClientRequest(key.RequestID))
			if err := s.idem.Queue(b, key, resp); err != nil {
				return err
			}
			return tx.SendBatch(ctx, b).Close()
		})
	}
	if err := consent.CatchUp(ctx, s.consumer, id, s.catchUpWait); err != nil {
		return err
	}
	err = intakecase.Await(ctx, s.consumer, id, s.catchUpWait, notFound, attempt)
	return s.idem.Settle(ctx, s.db.Mission(key.Mission), key, resp, err)
}

// catchUpWait is how long, by default, a request waits for intake's events to become readable when it
// names a case the projection has not seen yet (see outbox.Consumer.CatchUp).
const catchUpWait = 3 * time.Second

// read reads a return of the caller's mission, catching up on intake's events when it is not
// there yet.
func (s *Service) read(ctx context.Context, mission string, id uuid.UUID) (*record, error) {
	var rec *record
	err := intakecase.Await(ctx, s.consumer, id, s.catchUpWait, notFound, func() (err error) {
		rec, err = getReturn(ctx, s.db.Mission(mission), mission, id, false)
		return err
	})
	return rec, err
}
