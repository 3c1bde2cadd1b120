package search

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/vault"
)

// reindexMethod names the backfill in its audit records, where an RPC's records name the
// gRPC method.
const reindexMethod = "passage search reindex"

// Reindex computes the search indexes of every person of mission, the job that gives the
// people registered before migration 000034 what registration now stores, and returns how
// many people it read. It needs the decrypted identities, so it is an operator's job (passage
// search reindex), not SQL; it runs with intake's role, in transactions of batch people each,
// by subject id, so it may stop and run again at any time: indexes already there are kept.
//
// Each batch locks its vault rows (FOR UPDATE) before opening them, so that a correction of
// the same person (UpdateCase, which rewrites the row and replaces every index) runs either
// wholly before the batch, whose read then sees the corrected identity, or wholly after it,
// replacing what the batch wrote. Each batch writes one audit record for the mission, actor
// by, with the number of identities it opened and no id.
func Reindex(ctx context.Context, db *database.DB, keys *vault.Keyring, mission, by string, batch int) (int, error) {
	total := 0
	var after uuid.UUID
	for {
		n := 0
		err := db.MissionTx(ctx, mission, func(tx pgx.Tx) error {
			var last uuid.UUID
			var err error
			n, last, err = reindexBatch(ctx, tx, keys, mission, by, after, batch)
			if n > 0 {
				after = last
			}
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// reindexBatch indexes the next people of mission after subject id after, at most batch.
func reindexBatch(ctx context.Context, tx pgx.Tx, keys *vault.Keyring, mission, by string, after uuid.UUID, batch int) (int, uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT subject_id, wrapped_key, identity FROM vault.identity
WHERE mission = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3 FOR UPDATE`, mission, after, batch)
	if err != nil {
		return 0, uuid.Nil, fmt.Errorf("search: reindex: %w", err)
	}
	var subjects []uuid.UUID
	var sealed []vault.Sealed
	var id uuid.UUID
	var s vault.Sealed
	_, err = pgx.ForEachRow(rows, []any{&id, &s.WrappedKey, &s.Ciphertext}, func() error {
		subjects, sealed = append(subjects, id), append(sealed, vault.Sealed{WrappedKey: s.WrappedKey, Ciphertext: s.Ciphertext})
		return nil
	})
	if err != nil || len(subjects) == 0 {
		return 0, uuid.Nil, err
	}
	b := &pgx.Batch{}
	for i, subject := range subjects {
		p, err := keys.Open(subject, sealed[i])
		if err != nil {
			return 0, uuid.Nil, fmt.Errorf("search: reindex: open identity: %w", err)
		}
		vault.QueueIndexes(b, mission, subject, keys.SearchIndexes(p))
	}
	var st database.Statement
	audit.Add(&st, []audit.Entry{{Mission: mission, Actor: by, Role: "system", CallerMission: mission, Method: reindexMethod,
		Reason: fmt.Sprintf("SEARCH_REINDEX persons=%d", len(subjects)), RequestID: "-"}})
	st.Queue(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, uuid.Nil, fmt.Errorf("search: reindex: %w", err)
	}
	return len(subjects), subjects[len(subjects)-1], nil
}
