package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
)

// Erasure is the record that a person's identity was destroyed (vault.erasure). It names no
// one: the subject id is random, the reason a code, By a staff member's token subject.
type Erasure struct {
	SubjectID uuid.UUID
	Mission   string
	Reason    string // DATA_SUBJECT_REQUEST, RETENTION_EXPIRED, CONSENT_WITHDRAWN, UNLAWFUL_PROCESSING
	By        string
	At        time.Time
}

// ErasedByRetention is Erasure.By for the retention job.
const ErasedByRetention = "retention"

// QueueErase adds to b the erasure of a person (crypto-shredding): the erasure record, then
// the deletion of their vault row, which takes their wrapped data key, their sealed identity
// and (by cascade) their blind indexes with it. Nothing else about them changes. The record
// comes first because the database refuses to delete an identity without one. Erasing a
// person already erased changes nothing (the first record stays). b must run for e.Mission
// (database.DB.Mission or MissionTx), which vault.erasure's row-level security checks.
func QueueErase(b *pgx.Batch, e Erasure) {
	b.Queue(`INSERT INTO vault.erasure (subject_id, mission, reason, erased_by, erased_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject_id) DO NOTHING`, e.SubjectID, e.Mission, e.Reason, e.By, e.At)
	b.Queue(`DELETE FROM vault.identity WHERE subject_id = $1 AND mission = $2`, e.SubjectID, e.Mission)
}

// Erasures reads the erasure records of the given people of a mission; people not erased are
// absent from the map. q must run for the mission (database.DB.Mission or MissionTx).
func Erasures(ctx context.Context, q database.Querier, mission string, subjectIDs []uuid.UUID) (map[uuid.UUID]Erasure, error) {
	rows, err := q.Query(ctx, `SELECT subject_id, reason, erased_by, erased_at FROM vault.erasure
WHERE mission = $1 AND subject_id = ANY($2)`, mission, subjectIDs)
	if err != nil {
		return nil, fmt.Errorf("vault: read erasures: %w", err)
	}
	out := make(map[uuid.UUID]Erasure)
	e := Erasure{Mission: mission}
	_, err = pgx.ForEachRow(rows, []any{&e.SubjectID, &e.Reason, &e.By, &e.At}, func() error {
		out[e.SubjectID] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: read erasures: %w", err)
	}
	return out, nil
}
