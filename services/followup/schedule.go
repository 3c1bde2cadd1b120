package followup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/rpcerr"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// schedule is a mission's schedule row: its version and when it last changed. A mission that
// never changed its schedule has none, and reads as version 1.
type schedule struct {
	mission string
	version int64
	updated time.Time
}

// GetSchedule reads the caller's mission's schedule as it applies.
func (s *Service) GetSchedule(ctx context.Context, _ *followupv1.GetScheduleRequest) (*followupv1.GetScheduleResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *followupv1.Schedule
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		sc := &schedule{mission: who.Mission, version: 1}
		var updated *time.Time
		err := tx.QueryRow(ctx, `SELECT version, updated_at FROM followup.schedule WHERE mission = $1`, who.Mission).
			Scan(&sc.version, &updated)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("get schedule: %w", err)
		}
		if updated != nil {
			sc.updated = *updated
		}
		rows, err := tx.Query(ctx, `SELECT programme, kind, occurrence, due_after_months, due_after_days, remind_days_before
FROM followup.schedule_override WHERE mission = $1`, who.Mission)
		if err != nil {
			return fmt.Errorf("get schedule: %w", err)
		}
		overrides, err := scanEntries(rows)
		if err != nil {
			return err
		}
		out, err = effective(ctx, tx, sc, overrides)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &followupv1.GetScheduleResponse{Schedule: out}, nil
}

// SetSchedule replaces the caller's mission's overrides. Follow-ups already created keep
// their dates: a due date is computed once, when its follow-up is created.
func (s *Service) SetSchedule(ctx context.Context, req *followupv1.SetScheduleRequest) (*followupv1.SetScheduleResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkOverrides(ctx, who.Mission, req.GetOverrides()); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), followupv1.FollowUpService_SetSchedule_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &followupv1.SetScheduleResponse{}
	m := mutation.Mutation{Who: who, Key: key, Ref: who.Mission, Version: req.GetVersion(), Resp: resp}
	err = s.schedules.Run(ctx, m, func(sc *schedule, st *mutation.Step) (proto.Message, error) {
		st.Batch.Queue(`DELETE FROM followup.schedule_override WHERE mission = $1`, sc.mission)
		var programmes, kinds []string
		var occurrences, months, days, leads []int32
		for _, o := range req.GetOverrides() {
			programmes, kinds = append(programmes, programmeCode(o.GetProgramme())), append(kinds, kindCode(o.GetKind()))
			occurrences, months = append(occurrences, o.GetOccurrence()), append(months, o.GetDueAfterMonths())
			days, leads = append(days, o.GetDueAfterDays()), append(leads, o.GetRemindDaysBefore())
		}
		st.Batch.Queue(`INSERT INTO followup.schedule_override
(mission, programme, kind, occurrence, due_after_months, due_after_days, remind_days_before)
SELECT $1, p, k, o, m, d, r FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[]) AS t(p, k, o, m, d, r)`,
			sc.mission, programmes, kinds, occurrences, months, days, leads)
		// The response shows the schedule as it now applies: the defaults with these overrides.
		sc.version, sc.updated = st.Version, st.Now
		out, err := effective(ctx, st.Tx, sc, req.GetOverrides())
		if err != nil {
			return nil, err
		}
		resp.Schedule = out
		return &followupv1.ScheduleSet{Schedule: out}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// checkOverrides checks that each override names a follow-up of the defaults, once.
func (s *Service) checkOverrides(ctx context.Context, mission string, overrides []*followupv1.ScheduleEntry) error {
	defaults, err := readDefaults(ctx, s.db.Mission(mission))
	if err != nil {
		return err
	}
	known := map[entryKey]bool{}
	for _, d := range defaults {
		known[keyOf(d)] = true
	}
	seen := map[entryKey]bool{}
	var v rpcerr.Violations
	for i, o := range overrides {
		k := keyOf(o)
		field := fmt.Sprintf("overrides[%d]", i)
		switch {
		case !known[k]:
			v.Add(field, "names no follow-up of the programme's schedule (programme, kind, occurrence)")
		case seen[k]:
			v.Add(field, "names a follow-up an earlier override names")
		}
		seen[k] = true
	}
	return v.Err()
}

// entryKey is what a schedule entry is for.
type entryKey struct {
	programme, kind string
	occurrence      int32
}

func keyOf(e *followupv1.ScheduleEntry) entryKey {
	return entryKey{programmeCode(e.GetProgramme()), kindCode(e.GetKind()), e.GetOccurrence()}
}

// lockSchedule reads and locks mission's schedule row, making it at version 1 (the defaults)
// when the mission has none yet.
func lockSchedule(ctx context.Context, tx pgx.Tx, mission string) (*schedule, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO followup.schedule (mission, version) VALUES ($1, 1) ON CONFLICT (mission) DO NOTHING`,
		mission); err != nil {
		return nil, fmt.Errorf("lock schedule: %w", err)
	}
	sc := &schedule{mission: mission}
	if err := tx.QueryRow(ctx, `SELECT version, updated_at FROM followup.schedule WHERE mission = $1 FOR UPDATE`, mission).
		Scan(&sc.version, &sc.updated); err != nil {
		return nil, fmt.Errorf("lock schedule: %w", err)
	}
	return sc, nil
}

// readDefaults reads every programme's default schedule, by programme, kind and occurrence.
func readDefaults(ctx context.Context, q database.Querier) ([]*followupv1.ScheduleEntry, error) {
	rows, err := q.Query(ctx, `SELECT programme, kind, occurrence, due_after_months, due_after_days, remind_days_before
FROM followup.schedule_default ORDER BY programme, kind, occurrence`)
	if err != nil {
		return nil, fmt.Errorf("schedule defaults: %w", err)
	}
	return scanEntries(rows)
}

// effective is sc's schedule as it applies: every default, in order, the mission's override
// (from overrides) in its place. SetSchedule gives the overrides it is writing (its writes are
// queued, not yet sent), GetSchedule those it read.
func effective(ctx context.Context, q database.Querier, sc *schedule, overrides []*followupv1.ScheduleEntry) (*followupv1.Schedule, error) {
	entries, err := readDefaults(ctx, q)
	if err != nil {
		return nil, err
	}
	byKey := map[entryKey]*followupv1.ScheduleEntry{}
	for _, o := range overrides {
		byKey[keyOf(o)] = o
	}
	for i, d := range entries {
		if o, ok := byKey[keyOf(d)]; ok {
			e := proto.CloneOf(o)
			e.Overridden = true
			entries[i] = e
		}
	}
	return scheduleOf(sc, entries), nil
}

func scheduleOf(sc *schedule, entries []*followupv1.ScheduleEntry) *followupv1.Schedule {
	out := &followupv1.Schedule{Mission: sc.mission, Entries: entries, Version: sc.version}
	if !sc.updated.IsZero() {
		out.UpdateTime = timestamppb.New(sc.updated)
	}
	return out
}

// scanEntries reads rows of (programme, kind, occurrence, months, days, lead).
func scanEntries(rows pgx.Rows) ([]*followupv1.ScheduleEntry, error) {
	defer rows.Close()
	var out []*followupv1.ScheduleEntry
	for rows.Next() {
		var programme, kind string
		var occurrence, months, days, lead int16
		e := &followupv1.ScheduleEntry{}
		if err := rows.Scan(&programme, &kind, &occurrence, &months, &days, &lead); err != nil {
			return nil, fmt.Errorf("read schedule: %w", err)
		}
		e.Programme, e.Kind, e.Occurrence = programmeFromCode(programme), kindFromCode(kind), int32(occurrence)
		e.DueAfterMonths, e.DueAfterDays, e.RemindDaysBefore = int32(months), int32(days), int32(lead)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schedule: %w", err)
	}
	return out, nil
}
