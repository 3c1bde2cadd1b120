package vault

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
)

// Sealed identities live in vault.identity and their blind indexes in vault.blind_index. The
// functions below queue writes on a caller's batch so they commit with the case that needs
// them, and read through any Querier.

// QueuePut adds the inserts of a new person's sealed identity and blind indexes to b.
func QueuePut(b *pgx.Batch, mission string, subjectID uuid.UUID, s Sealed, indexes []BlindIndex) {
	b.Queue(`INSERT INTO vault.identity (subject_id, mission, wrapped_key, identity) VALUES ($1, $2, $3, $4)`,
		subjectID, mission, s.WrappedKey, s.Ciphertext)
	queueIndexes(b, mission, subjectID, indexes)
}

// QueueReplace adds to b the replacement of a person's identity ciphertext (sealed with the
// person's existing data key, see Keyring.Reseal) and of their blind indexes.
func QueueReplace(b *pgx.Batch, mission string, subjectID uuid.UUID, ciphertext []byte, indexes []BlindIndex) {
	b.Queue(`UPDATE vault.identity SET identity = $2, updated_at = now() WHERE subject_id = $1`,
		subjectID, ciphertext)
	b.Queue(`DELETE FROM vault.blind_index WHERE subject_id = $1`, subjectID)
	queueIndexes(b, mission, subjectID, indexes)
}

func queueIndexes(b *pgx.Batch, mission string, subjectID uuid.UUID, indexes []BlindIndex) {
	if len(indexes) == 0 {
		return
	}
	digests := make([][]byte, len(indexes))
	kinds := make([]string, len(indexes))
	for i, ix := range indexes {
		digests[i], kinds[i] = ix.Digest, ix.Kind.String()
	}
	b.Queue(`INSERT INTO vault.blind_index (mission, digest, subject_id, kind)
SELECT $1, d, $2, k FROM unnest($3::bytea[], $4::text[]) AS t(d, k)
ON CONFLICT DO NOTHING`, mission, subjectID, digests, kinds)
}

// Get reads the sealed identities of the given people. People without a vault row (erased)
// are absent from the map.
func Get(ctx context.Context, q database.Querier, subjectIDs []uuid.UUID) (map[uuid.UUID]Sealed, error) {
	rows, err := q.Query(ctx,
		`SELECT subject_id, wrapped_key, identity FROM vault.identity WHERE subject_id = ANY($1)`, subjectIDs)
	if err != nil {
		return nil, fmt.Errorf("vault: read identities: %w", err)
	}
	out := make(map[uuid.UUID]Sealed, len(subjectIDs))
	for rows.Next() {
		var id uuid.UUID
		var s Sealed
		if err := rows.Scan(&id, &s.WrappedKey, &s.Ciphertext); err != nil {
			return nil, fmt.Errorf("vault: read identities: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault: read identities: %w", err)
	}
	return out, nil
}
