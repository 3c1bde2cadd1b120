package followup

import (
	"context"
	"crypto/sha256"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// followUpKind describes a follow-up to mutation.Run.
func (s *Service) followUpKind() mutation.Kind[*followupv1.FollowUp] {
	return mutation.Kind[*followupv1.FollowUp]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: parseID,
		Lock: func(ctx context.Context, tx pgx.Tx, _ auth.Claims, id uuid.UUID) (*followupv1.FollowUp, error) {
			return getFollowUp(ctx, tx, id, s.today(), true)
		},
		Version: func(f *followupv1.FollowUp) int64 { return f.GetVersion() },
		Mission: func(f *followupv1.FollowUp) string { return f.GetMission() },
		About:   caseOf,
		Stale:   func(id string, f *followupv1.FollowUp) error { return staleFollowUp(id, f.GetVersion()) },
		Save: func(f *followupv1.FollowUp, st *mutation.Step) {
			f.Version = st.Version
			f.UpdateTime = timestamppb.New(st.Now)
			queueUpdate(st.Batch, f)
		},
	}
}

// scheduleKind describes a mission's schedule to mutation.Run. Its aggregate id is derived
// from the mission (scheduleID), for the outbox and the audit trail; its row is made at
// version 1, the defaults, when the mission first changes it.
func (s *Service) scheduleKind() mutation.Kind[*schedule] {
	return mutation.Kind[*schedule]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: func(mission string) (uuid.UUID, error) { return scheduleID(mission), nil },
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, _ uuid.UUID) (*schedule, error) {
			return lockSchedule(ctx, tx, who.Mission)
		},
		Version: func(sc *schedule) int64 { return sc.version },
		Mission: func(sc *schedule) string { return sc.mission },
		Stale:   func(mission string, sc *schedule) error { return staleSchedule(mission, sc.version) },
		Save: func(sc *schedule, st *mutation.Step) {
			sc.version, sc.updated = st.Version, st.Now
			st.Batch.Queue(`UPDATE followup.schedule SET version = $2, updated_at = $3 WHERE mission = $1`,
				sc.mission, sc.version, sc.updated)
		},
	}
}

// scheduleNamespace derives schedule ids: a mission's schedule has the same id everywhere.
var scheduleNamespace = uuid.NewHash(sha256.New(), uuid.NameSpaceOID, []byte("passage.followup.v1.Schedule"), 5)

// scheduleID is the id of mission's schedule in the outbox and the audit trail.
func scheduleID(mission string) uuid.UUID {
	return uuid.NewSHA1(scheduleNamespace, []byte(mission))
}

// change runs one change on a follow-up of the caller's mission, a request of method: apply
// edits the locked follow-up, fills resp and returns the event.
func (s *Service) change(ctx context.Context, req interface {
	proto.Message
	GetRequestId() string
	GetFollowUpId() string
	GetVersion() int64
}, method string, resp proto.Message,
	apply func(who auth.Claims, f *followupv1.FollowUp, st *mutation.Step) (proto.Message, error),
) error {
	who, err := auth.Caller(ctx)
	if err != nil {
		return err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), method, req)
	if err != nil {
		return toStatus(err)
	}
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetFollowUpId(), Version: req.GetVersion(), Resp: resp}
	return toStatus(s.followUps.Run(ctx, m, func(f *followupv1.FollowUp, st *mutation.Step) (proto.Message, error) {
		return apply(who, f, st)
	}))
}
