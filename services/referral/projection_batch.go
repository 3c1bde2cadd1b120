package referral

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// applyIntakeEvents applies one drain's intake events with the effect of applyIntakeEvent on
// each in turn, in one round trip for a run of events about distinct cases: for each mission
// the run touches, its declaration, the upsert of its cases (one statement, returning those
// the events were newer than) and the look-up of which of them have live outbound referrals
// resting on consent. Only those cases (few: most cases have none) go on to
// withdrawUnconsented, one by one. A run ends before a case it already holds, so that a
// consent withdrawn by one event and given again by the next withdraws what the first did.
func (s *Service) applyIntakeEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	run := map[string][]*intakev1.Case{} // by the mission its event was recorded under
	var missions []string
	seen := map[string]bool{}
	for _, r := range records {
		c, err := intakecase.Decode(r)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		if seen[c.GetCaseId()] {
			if err := s.applyRun(ctx, tx, missions, run); err != nil {
				return err
			}
			run, missions, seen = map[string][]*intakev1.Case{}, nil, map[string]bool{}
		}
		if _, ok := run[r.Mission]; !ok {
			missions = append(missions, r.Mission)
		}
		run[r.Mission] = append(run[r.Mission], c)
		seen[c.GetCaseId()] = true
	}
	return s.applyRun(ctx, tx, missions, run)
}

// liveStatuses are the statuses of a referral a withdrawal of consent still withdraws.
const liveStatuses = `('DRAFT', 'SENT', 'RECEIVED', 'ACCEPTED')`

func (s *Service) applyRun(ctx context.Context, tx pgx.Tx, missions []string, run map[string][]*intakev1.Case) error {
	if len(missions) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, mission := range missions {
		cases := run[mission]
		ids, caseMissions, versions, snapshots := make([]string, len(cases)), make([]string, len(cases)), make([]int64, len(cases)), make([][]byte, len(cases))
		for i, c := range cases {
			snapshot, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
			if err != nil {
				return fmt.Errorf("project case: %w", err)
			}
			ids[i], caseMissions[i], versions[i], snapshots[i] = c.GetCaseId(), c.GetMission(), c.GetVersion(), snapshot
		}
		database.QueueMission(b, mission)
		b.Queue(`INSERT INTO referral."case" AS x (case_id, mission, intake_version, snapshot)
SELECT c, m, v, s FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bytea[]) AS t(c, m, v, s)
ON CONFLICT (case_id) DO UPDATE SET intake_version = EXCLUDED.intake_version, snapshot = EXCLUDED.snapshot
WHERE x.intake_version < EXCLUDED.intake_version
RETURNING case_id::text`, ids, caseMissions, versions, snapshots)
		// As withdrawUnconsented selects them, without their rows: which cases have any.
		b.Queue(`SELECT DISTINCT r.case_id::text FROM referral.referral r
JOIN unnest($1::uuid[], $2::text[]) AS t(c, m) ON r.case_id = t.c AND r.mission = t.m
WHERE r.direction = 'OUTBOUND' AND r.override_reason IS NULL AND r.status IN `+liveStatuses, ids, caseMissions)
	}
	br := tx.SendBatch(ctx, b)
	applied, live := map[string]bool{}, map[string]bool{}
	read := func(into map[string]bool) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var id string
		_, err = pgx.ForEachRow(rows, []any{&id}, func() error { into[id] = true; return nil })
		return err
	}
	for range missions {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("project cases: declare mission: %w", err)
		}
		if err := read(applied); err != nil {
			br.Close()
			return fmt.Errorf("project cases: %w", err)
		}
		if err := read(live); err != nil {
			br.Close()
			return fmt.Errorf("read referrals to withdraw: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("project cases: %w", err)
	}
	for _, mission := range missions {
		for _, c := range run[mission] {
			id := strings.ToLower(c.GetCaseId())
			if !applied[id] || !live[id] {
				continue // older than the projection, or nothing to withdraw
			}
			if err := s.withdrawUnconsented(ctx, database.WithMission(tx, mission), c); err != nil {
				return err
			}
		}
	}
	return nil
}
