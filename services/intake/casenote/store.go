package casenote

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/vault"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
)

// The store reads and writes intake.case_note and intake.case_note_version. Reads take a
// database.Querier declared for the caller's mission; row-level security shows it only that
// mission's notes, and every query names the mission as well.

const noteColumns = `n.note_id, n.mission, n.case_id, n.subject_id, n.sensitivity, n.version, n.author, n.updated_by,
n.created_at, n.updated_at`

// sealed is one version's ciphertext, with what opening it needs besides the data key.
type sealed struct {
	version     int64
	sensitivity casenotev1.Sensitivity
	author      string
	writtenAt   time.Time
	text        []byte
}

// scanNote reads a note's columns (noteColumns), then dest.
func scanNote(row pgx.Row, dest ...any) (*casenotev1.CaseNote, error) {
	var (
		n                    casenotev1.CaseNote
		noteID, caseID, subj uuid.UUID
		sensitivity          string
		createdAt, updatedAt time.Time
	)
	err := row.Scan(append([]any{&noteID, &n.Mission, &caseID, &subj, &sensitivity, &n.Version, &n.Author, &n.UpdatedBy,
		&createdAt, &updatedAt}, dest...)...)
	if err != nil {
		return nil, database.NotFound(err)
	}
	n.NoteId, n.CaseId, n.SubjectId = noteID.String(), caseID.String(), subj.String()
	n.Sensitivity = enumcode.Value[casenotev1.Sensitivity](sensitivity)
	n.CreateTime, n.UpdateTime = timestamppb.New(createdAt), timestamppb.New(updatedAt)
	return &n, nil
}

// readNote reads note id of mission, locked FOR UPDATE until tx ends when lock is set.
func readNote(ctx context.Context, q database.Querier, mission string, id uuid.UUID, lock bool) (*casenotev1.CaseNote, error) {
	sql := `SELECT ` + noteColumns + ` FROM intake.case_note n WHERE n.note_id = $1 AND n.mission = $2`
	if lock {
		sql += ` FOR UPDATE`
	}
	return scanNote(q.QueryRow(ctx, sql, id, mission))
}

// readVersions reads the versions of note id, oldest first: every one, or the current one
// alone (current set).
func readVersions(ctx context.Context, q database.Querier, id uuid.UUID, current int64, all bool) ([]sealed, error) {
	rows, err := q.Query(ctx, `SELECT version, sensitivity, author, written_at, text FROM intake.case_note_version
WHERE note_id = $1 AND ($2 OR version = $3) ORDER BY version`, id, all, current)
	if err != nil {
		return nil, fmt.Errorf("read note versions: %w", err)
	}
	var out []sealed
	var v sealed
	var sensitivity string
	_, err = pgx.ForEachRow(rows, []any{&v.version, &sensitivity, &v.author, &v.writtenAt, &v.text}, func() error {
		v.sensitivity = enumcode.Value[casenotev1.Sensitivity](sensitivity)
		v.text = slices.Clone(v.text)
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read note versions: %w", err)
	}
	return out, nil
}

// listFilter is a validated ListCaseNotes query: the page, and the sensitivity codes the
// caller may read.
type listFilter struct {
	CaseList
	readable []string
}

// listNotes reads the mission's notes on a case of the sensitivities f.readable, newest
// first, each with its current version's ciphertext.
func listNotes(ctx context.Context, q database.Querier, f listFilter) ([]*casenotev1.CaseNote, [][]byte, error) {
	afterTime, afterID := f.AfterArgs()
	rows, err := q.Query(ctx, `SELECT `+noteColumns+`, v.text
FROM intake.case_note n JOIN intake.case_note_version v ON v.note_id = n.note_id AND v.version = n.version
WHERE n.case_id = $1 AND n.mission = $2 AND n.sensitivity = ANY($3)
  AND ($4::timestamptz IS NULL OR (n.created_at, n.note_id) < ($4, $5))
ORDER BY n.created_at DESC, n.note_id DESC
LIMIT $6`, f.CaseID, f.Who.Mission, f.readable, afterTime, afterID, f.Limit)
	if err != nil {
		return nil, nil, fmt.Errorf("list notes: %w", err)
	}
	defer rows.Close()
	var notes []*casenotev1.CaseNote
	var texts [][]byte
	for rows.Next() {
		var text []byte
		n, err := scanNote(rows, &text)
		if err != nil {
			return nil, nil, fmt.Errorf("list notes: %w", err)
		}
		notes, texts = append(notes, n), append(texts, slices.Clone(text))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list notes: %w", err)
	}
	return notes, texts, nil
}

// countWithheld counts the mission's notes on a case of any sensitivity but readable.
func countWithheld(ctx context.Context, q database.Querier, f listFilter) (int32, error) {
	var n int32
	err := q.QueryRow(ctx, `SELECT count(*) FROM intake.case_note
WHERE case_id = $1 AND mission = $2 AND NOT sensitivity = ANY($3)`, f.CaseID, f.Who.Mission, f.readable).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count withheld notes: %w", err)
	}
	return n, nil
}

// queueInsertNote adds to b a new note (n, at version 1) and its first version's ciphertext.
func queueInsertNote(b *pgx.Batch, n *casenotev1.CaseNote, text []byte) {
	b.Queue(`INSERT INTO intake.case_note (note_id, mission, case_id, subject_id, sensitivity, version, author, updated_by,
  created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $8)`,
		n.NoteId, n.Mission, n.CaseId, n.SubjectId, enumcode.Code(n.Sensitivity), n.Version, n.Author, n.CreateTime.AsTime())
	queueInsertVersion(b, n, text)
}

// queueInsertVersion adds to b the ciphertext of n's current version, written by
// n.UpdatedBy at n.UpdateTime.
func queueInsertVersion(b *pgx.Batch, n *casenotev1.CaseNote, text []byte) {
	b.Queue(`INSERT INTO intake.case_note_version (note_id, version, mission, sensitivity, text, author, written_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		n.NoteId, n.Version, n.Mission, enumcode.Code(n.Sensitivity), text, n.UpdatedBy, n.UpdateTime.AsTime())
}

// queueUpdateNote adds to b the move of note n to its new version (n carries it).
func queueUpdateNote(b *pgx.Batch, n *casenotev1.CaseNote) {
	b.Queue(`UPDATE intake.case_note SET sensitivity = $2, version = $3, updated_by = $4, updated_at = $5
WHERE note_id = $1 AND version = $3 - 1`,
		n.NoteId, enumcode.Code(n.Sensitivity), n.Version, n.UpdatedBy, n.UpdateTime.AsTime())
}

// noteKind is the kind of record a note's text is sealed as (vault.Keyring.SealRecord).
const noteKind = "note"

// OpenVersion opens the text of version of note noteID about subject, sealed as text, with
// the person's wrapped data key (vault.DataKeys): for the operator's subject access export,
// which reads every version.
func OpenVersion(keys *vault.Keyring, subject uuid.UUID, wrappedKey []byte, noteID string, version int64, text []byte) ([]byte, error) {
	pt, err := keys.OpenRecord(subject, wrappedKey, noteKind, noteRef(noteID, version), text)
	if err != nil {
		return nil, fmt.Errorf("open note: %w", err)
	}
	return pt, nil
}

// noteRef binds a sealed text to its note and version: the note id, then the version, 8
// bytes big-endian.
func noteRef(noteID string, version int64) []byte {
	id := uuid.MustParse(noteID)
	return binary.BigEndian.AppendUint64(slices.Clone(id[:]), uint64(version))
}
