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
// them, and read through any Querier. Both tables are under row-level security: the batch or
// Querier must be declared for the mission (database.DB.Mission, MissionTx), and a person of
// another mission is simply not there.

// Entry is one new person for AddPut.
type Entry struct {
	SubjectID uuid.UUID
	Sealed    Sealed
	Indexes   []BlindIndex
}

// Rewrapped brings entries sealed before the KEK's primary key changed onto the current
// primary (Keyring.Rewrap; the identity ciphertext stays as it is), so that a write held up
// while the keyset was rotated does not land on the old key after Rewrap has moved every row
// off it. Writers call it right before sending the statement that inserts the entries; the
// moment between is all Rewrap's final wait for running transactions has to cover.
func (k *Keyring) Rewrapped(entries []Entry) error {
	primary := k.KEKPrimary()
	for i := range entries {
		e := &entries[i]
		if e.Sealed.KEKKeyID == primary {
			continue
		}
		wrapped, id, err := k.Rewrap(e.SubjectID, e.Sealed.WrappedKey)
		if err != nil {
			return err
		}
		e.Sealed.WrappedKey, e.Sealed.KEKKeyID = wrapped, id
	}
	return nil
}

// AddPut adds to st the inserts of new people's sealed identities and blind indexes, as its
// parts "vault_identity" and "vault_blind_index" (the latter only when there are indexes):
// two inserts however many people there are, one person being a slice of one.
// The blind indexes' foreign key to their identity is checked at the end of the statement,
// when the identities exist.
func AddPut(st *database.Statement, mission string, entries []Entry) {
	subjects := make([]uuid.UUID, len(entries))
	keys, identities := make([][]byte, len(entries)), make([][]byte, len(entries))
	kekIDs := make([]int64, len(entries))
	var ixSubjects []uuid.UUID
	var digests [][]byte
	var kinds []string
	for i, e := range entries {
		subjects[i], keys[i], identities[i] = e.SubjectID, e.Sealed.WrappedKey, e.Sealed.Ciphertext
		kekIDs[i] = int64(e.Sealed.KEKKeyID)
		for _, ix := range e.Indexes {
			ixSubjects, digests, kinds = append(ixSubjects, e.SubjectID), append(digests, ix.Digest), append(kinds, ix.Kind.String())
		}
	}
	m := st.Arg(mission)
	st.Add("vault_identity", `INSERT INTO vault.identity (subject_id, mission, wrapped_key, identity, kek_key_id)
SELECT s, `+m+`, k, i, w FROM unnest(`+st.Arg(subjects)+`::uuid[], `+st.Arg(keys)+`::bytea[], `+st.Arg(identities)+`::bytea[], `+
		st.Arg(kekIDs)+`::bigint[]) AS t(s, k, i, w)`)
	if len(digests) > 0 {
		st.Add("vault_blind_index", `INSERT INTO vault.blind_index (mission, digest, subject_id, kind)
SELECT `+m+`, d, s, k FROM unnest(`+st.Arg(digests)+`::bytea[], `+st.Arg(ixSubjects)+`::uuid[], `+st.Arg(kinds)+`::text[]) AS t(d, s, k)
ON CONFLICT DO NOTHING`)
	}
}

// QueueReplace adds to b the replacement of a person's identity ciphertext (sealed with the
// person's existing data key, see Keyring.Reseal) and of their blind indexes.
func QueueReplace(b *pgx.Batch, mission string, subjectID uuid.UUID, ciphertext []byte, indexes []BlindIndex) {
	b.Queue(`UPDATE vault.identity SET identity = $2, updated_at = now() WHERE subject_id = $1`,
		subjectID, ciphertext)
	b.Queue(`DELETE FROM vault.blind_index WHERE subject_id = $1`, subjectID)
	QueueIndexes(b, mission, subjectID, indexes)
}

// QueueIndexes adds to b the insert of a person's blind indexes; those already stored are
// kept (the search's backfill adds a person's indexes beside the ones they have).
func QueueIndexes(b *pgx.Batch, mission string, subjectID uuid.UUID, indexes []BlindIndex) {
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
