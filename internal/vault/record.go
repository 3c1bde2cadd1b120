package vault

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
)

// A record is free text about a person kept outside their identity (a case note), sealed
// with the person's own data key, so that their erasure (QueueErase, which deletes the wrapped
// key with the vault row) makes it unreadable together with their identity. The key is not
// copied: a record is sealed and opened with the wrapped key vault.identity holds (DataKey).

// recordLabel separates records from identities and secrets, and versions their format.
const recordLabel = "passage.vault.record.v1/"

// SealRecord encrypts plaintext with the data key of person subjectID (wrappedKey, as
// DataKey reads it). The associated data binds the person, the kind of record ("note") and
// ref (the record's own id and version, say), so that a ciphertext cannot be moved to another
// person, record or version and still open.
func (k *Keyring) SealRecord(subjectID uuid.UUID, wrappedKey []byte, kind string, ref, plaintext []byte) ([]byte, error) {
	if subjectID == uuid.Nil {
		return nil, errNilSubject
	}
	primitive, err := k.unwrap(subjectID, wrappedKey)
	if err != nil {
		return nil, err
	}
	ct, err := primitive.Encrypt(plaintext, recordAssociatedData(subjectID, kind, ref))
	if err != nil {
		return nil, fmt.Errorf("vault: seal record: %w", err)
	}
	return ct, nil
}

// OpenRecord decrypts what SealRecord sealed for the same person, kind and ref. Any
// authentication failure returns an error wrapping ErrUndecryptable.
func (k *Keyring) OpenRecord(subjectID uuid.UUID, wrappedKey []byte, kind string, ref, ciphertext []byte) ([]byte, error) {
	if subjectID == uuid.Nil {
		return nil, errNilSubject
	}
	primitive, err := k.unwrap(subjectID, wrappedKey)
	if err != nil {
		return nil, err
	}
	pt, err := primitive.Decrypt(ciphertext, recordAssociatedData(subjectID, kind, ref))
	if err != nil {
		return nil, fmt.Errorf("vault: open record: %w", ErrUndecryptable)
	}
	return pt, nil
}

// recordAssociatedData is the subject id (16 bytes), the label, the kind, a slash and ref:
// the kind never holds a slash, so the concatenation is unambiguous.
func recordAssociatedData(subjectID uuid.UUID, kind string, ref []byte) []byte {
	return slices.Concat(subjectID[:], []byte(recordLabel+kind+"/"), ref)
}

// DataKeys reads the wrapped data keys of the given people through q (declared for a mission
// that may read their vault rows). People without a vault row are absent from the map: erased,
// and their records unreadable.
func DataKeys(ctx context.Context, q database.Querier, subjectIDs []uuid.UUID) (map[uuid.UUID][]byte, error) {
	rows, err := q.Query(ctx, `SELECT subject_id, wrapped_key FROM vault.identity WHERE subject_id = ANY($1)`, subjectIDs)
	if err != nil {
		return nil, fmt.Errorf("vault: read data keys: %w", err)
	}
	out := make(map[uuid.UUID][]byte, len(subjectIDs))
	var id uuid.UUID
	var key []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &key}, func() error {
		out[id] = slices.Clone(key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: read data keys: %w", err)
	}
	return out, nil
}
