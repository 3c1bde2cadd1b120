package returns

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/mutation"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// change applies one step to a locked return: it edits rec.ret in place (appending the new
// fact, which carries p), queues the fact's insert on b, fills the response and returns the
// event to record.
type change func(rec *record, b *pgx.Batch, p *returnsv1.Provenance) (proto.Message, error)

// mutate runs one step on a return (mutation.Kind.Run: the row lock, the replay of a retried
// request, the version check, the return row, the outbox event, the audit and idempotency
// records in one transaction). Before the step's own change it checks that the caller's
// mission holds the step's part (checkPart), that the case is still
// open in intake and that the return's status allows the step and the principal's assistance
// consent is in force (every step but closing needs it). Any consent change intake committed
// for the case is applied first (consent.CatchUp), so a withdrawal takes effect at once, not
// when the background consumer comes round. A return not found may belong to a case intake
// registered a moment ago: the projection catches up once and the step is tried again.
func (s *Service) mutate(ctx context.Context, who auth.Claims, key idempotency.Key, step, caseID string, version int64,
	resp proto.Message, apply change,
) error {
	id, err := parseCaseID(caseID)
	if err != nil {
		return err
	}
	if err := handoverpart.CatchUp(ctx, s.consumer, id, s.catchUpWait); err != nil {
		return err
	}
	m := mutation.Mutation{Who: who, Key: key, Ref: caseID, Version: version, Resp: resp}
	return s.returns.Run(ctx, m, func(rec *record, st *mutation.Step) (proto.Message, error) {
		if err := checkPart(rec, step); err != nil {
			return nil, err
		}
		if rec.caseClosed && step != stepClose {
			return nil, &RuleError{Reason: "CASE_CLOSED", Subject: "cases/" + caseID,
				Message: "the case is closed in intake: the return can only be closed"}
		}
		if !rec.assistanceAllowed && step != stepClose {
			return nil, &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
		}
		if err := checkStep(step, rec.ret.Status); err != nil {
			return nil, err
		}
		return apply(rec, st.Batch, &returnsv1.Provenance{Version: st.Version, RecordedBy: who.Subject, RecordTime: timestamppb.New(st.Now)})
	})
}

// kind describes a return to mutation.Run.
func (s *Service) kind() mutation.Kind[*record] {
	return mutation.Kind[*record]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: parseCaseID,
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*record, error) {
			return getReturn(ctx, tx, who.Mission, id, true)
		},
		Version: func(rec *record) int64 { return rec.ret.Version },
		// The step's event and audit record are the acting mission's: the case's own, or the
		// one holding the step's part.
		Mission: func(rec *record) string { return rec.acting },
		Stale: func(caseID string, rec *record) error {
			return staleVersion(caseID, rec.ret.Version)
		},
		Save: func(rec *record, st *mutation.Step) {
			rec.ret.Version = st.Version
			rec.ret.UpdateTime = timestamppb.New(st.Now)
			rec.setUnmet()
			queueUpdateReturn(st.Batch, rec)
		},
		Await: func(ctx context.Context, id uuid.UUID, attempt func() error) error {
			return intakecase.Await(ctx, s.consumer, id, s.catchUpWait, notFound, attempt)
		},
	}
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
