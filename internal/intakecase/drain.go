package intakecase

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Drained is one case as a drain of intake's events leaves it: its newest state and the
// mission its events were recorded for.
type Drained struct {
	Mission string
	Case    *intakev1.Case
}

// ErrMixedMissions refuses a drain in which one case's events were recorded for different
// missions, or describe it under different missions. Intake never writes such events: at least
// one of them is one that row-level security refuses, and only applying the events one at a
// time, in commit order, finds which and holds it back where it stands. A consumer's batch
// handler returns it, and the consumer does so.
var ErrMixedMissions = errors.New("intakecase: a case's events in one drain name different missions")

// Newest reads a drain of intake's events and returns each case of the programmes once, in the
// order of its first event, at its newest state: by intake's version, and between equal
// versions the first in commit order, as applying the events one at a time leaves a projection
// that refuses an event no newer than what it holds. Events of other programmes, and events
// that carry no case, are passed over. It fails on an event that does not decode, and with
// ErrMixedMissions.
func Newest(records []outbox.Record, programmes ...commonv1.Programme) ([]Drained, error) {
	var out []Drained
	index := map[string]int{}
	for _, r := range records {
		m, err := r.Decode()
		if err != nil {
			return nil, err
		}
		c := Of(m)
		if c == nil || !slices.Contains(programmes, c.GetProgramme()) {
			continue
		}
		i, seen := index[c.GetCaseId()]
		if !seen {
			index[c.GetCaseId()] = len(out)
			out = append(out, Drained{Mission: r.Mission, Case: c})
			continue
		}
		d := &out[i]
		if d.Mission != r.Mission || d.Case.GetMission() != c.GetMission() {
			return nil, ErrMixedMissions
		}
		if c.GetVersion() > d.Case.GetVersion() {
			d.Case = c
		}
	}
	return out, nil
}

// Project writes the cases of the programmes in a drain of intake's events, each once at its
// newest state (Newest), in one round trip in the consumer's transaction: for each mission, in
// the order of its first case, the mission's declaration, then what queue adds for the
// mission's cases. The consumer's transaction reads every mission's events; each mission's rows
// are written under the mission their events were recorded for, which row-level security
// checked then. It is a consumer's batch handler but for queue.
func Project(ctx context.Context, tx pgx.Tx, records []outbox.Record,
	queue func(b *pgx.Batch, cases []*intakev1.Case), programmes ...commonv1.Programme,
) error {
	drained, err := Newest(records, programmes...)
	if err != nil {
		return err
	}
	var missions []string
	byMission := map[string][]*intakev1.Case{}
	for _, d := range drained {
		if _, ok := byMission[d.Mission]; !ok {
			missions = append(missions, d.Mission)
		}
		byMission[d.Mission] = append(byMission[d.Mission], d.Case)
	}
	if len(missions) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, m := range missions {
		database.QueueMission(b, m)
		queue(b, byMission[m])
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("project cases: %w", err)
	}
	return nil
}
