package document

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
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	"github.com/passage-cm/passage/services/intake/casenote"
)

// Store keeps documents' bytes: their sealed chunks, in order, under their mission and
// document id. PostgresStore keeps them in the database, in the upload's transaction;
// ObjectStore (objects.go) in an S3-compatible bucket.
type Store interface {
	// Writer keeps the chunks of document doc of mission, for the upload running in tx: kept
	// for good only if tx commits (Discard removes them otherwise).
	Writer(ctx context.Context, tx pgx.Tx, mission string, doc uuid.UUID) ChunkWriter
	// Chunks calls fn with each of the chunks chunks of document doc of mission, in order, one
	// at a time, read through q (declared for mission) where the store is the database. fn
	// must not keep sealed after it returns.
	Chunks(ctx context.Context, q database.Querier, mission string, doc uuid.UUID, chunks int32, fn func(index int32, sealed []byte) error) error
	// Discard removes what Put kept of document doc of mission, whose upload's transaction
	// did not commit: nothing to do where Put wrote in that transaction.
	Discard(ctx context.Context, mission string, doc uuid.UUID) error
}

// ChunkWriter keeps one document's chunks as an upload receives them.
type ChunkWriter interface {
	// Put keeps chunk index, which is sealed's to keep: the writer may still be keeping it
	// when Put returns, so the caller must not change sealed. An error may be an earlier
	// chunk's.
	Put(index int32, sealed []byte) error
	// Close waits until every chunk put is kept, or failed, and returns the first failure.
	// It must be called, whatever happened before.
	Close() error
}

// PostgresStore keeps the chunks in intake.document_chunk, under row-level security by
// mission, in the transaction of the upload.
type PostgresStore struct{}

// Writer inserts each chunk in tx as it is put.
func (PostgresStore) Writer(ctx context.Context, tx pgx.Tx, mission string, doc uuid.UUID) ChunkWriter {
	return rowWriter{ctx: ctx, tx: tx, mission: mission, doc: doc}
}

// rowWriter inserts chunks in a transaction.
type rowWriter struct {
	ctx     context.Context
	tx      pgx.Tx
	mission string
	doc     uuid.UUID
}

// Put inserts the chunk.
func (w rowWriter) Put(index int32, sealed []byte) error {
	_, err := w.tx.Exec(w.ctx, `INSERT INTO intake.document_chunk (document_id, chunk_index, mission, data) VALUES ($1, $2, $3, $4)`,
		w.doc, index, w.mission, sealed)
	if err != nil {
		return fmt.Errorf("put document chunk: %w", err)
	}
	return nil
}

// Close has nothing to wait for.
func (rowWriter) Close() error { return nil }

// Chunks reads the chunks row by row: the rows are streamed, not read whole.
func (PostgresStore) Chunks(ctx context.Context, q database.Querier, mission string, doc uuid.UUID, _ int32, fn func(index int32, sealed []byte) error) error {
	rows, err := q.Query(ctx, `SELECT chunk_index, data FROM intake.document_chunk WHERE document_id = $1 AND mission = $2 ORDER BY chunk_index`,
		doc, mission)
	if err != nil {
		return fmt.Errorf("read document chunks: %w", err)
	}
	var index int32
	var sealed []byte
	_, err = pgx.ForEachRow(rows, []any{&index, &sealed}, func() error { return fn(index, sealed) })
	if err != nil {
		return fmt.Errorf("read document chunks: %w", err)
	}
	return nil
}

// Discard has nothing to do: the rolled-back transaction took the chunks with it.
func (PostgresStore) Discard(context.Context, string, uuid.UUID) error { return nil }

// The metadata: intake.document. Reads take a database.Querier declared for the caller's
// mission; row-level security shows it only that mission's documents, and every query names
// the mission as well.

const documentColumns = `d.document_id, d.mission, d.case_id, d.subject_id, d.kind, d.media_type, d.size_bytes,
d.uploaded_by, d.created_at, d.chunks, d.checksum`

// stored is a document's metadata with what stays sealed: its chunk count and checksum.
type stored struct {
	doc      *documentv1.Document
	chunks   int32
	checksum []byte
}

func scanDocument(row pgx.Row) (stored, error) {
	var (
		d                   documentv1.Document
		docID, caseID, subj uuid.UUID
		kind                string
		createdAt           time.Time
		s                   stored
	)
	err := row.Scan(&docID, &d.Mission, &caseID, &subj, &kind, &d.MediaType, &d.SizeBytes, &d.UploadedBy, &createdAt,
		&s.chunks, &s.checksum)
	if err != nil {
		return stored{}, database.NotFound(err)
	}
	d.DocumentId, d.CaseId, d.SubjectId = docID.String(), caseID.String(), subj.String()
	d.Kind = enumcode.Value[documentv1.DocumentKind](kind)
	d.CreateTime = timestamppb.New(createdAt)
	s.doc, s.checksum = &d, slices.Clone(s.checksum)
	return s, nil
}

// readDocument reads document id of mission.
func readDocument(ctx context.Context, q database.Querier, mission string, id uuid.UUID) (stored, error) {
	return scanDocument(q.QueryRow(ctx, `SELECT `+documentColumns+` FROM intake.document d
WHERE d.document_id = $1 AND d.mission = $2`, id, mission))
}

// listDocuments reads the mission's documents on a case, newest first.
func listDocuments(ctx context.Context, q database.Querier, f casenote.CaseList) ([]stored, error) {
	afterTime, afterID := f.AfterArgs()
	rows, err := q.Query(ctx, `SELECT `+documentColumns+` FROM intake.document d
WHERE d.case_id = $1 AND d.mission = $2
  AND ($3::timestamptz IS NULL OR (d.created_at, d.document_id) < ($3, $4))
ORDER BY d.created_at DESC, d.document_id DESC
LIMIT $5`, f.CaseID, f.Who.Mission, afterTime, afterID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stored, error) { return scanDocument(row) })
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return out, nil
}

// queueInsertDocument adds to b a new document's row, of chunks chunks and sealed checksum.
func queueInsertDocument(b *pgx.Batch, d *documentv1.Document, chunks int32, checksum []byte) {
	b.Queue(`INSERT INTO intake.document (document_id, mission, case_id, subject_id, kind, media_type, size_bytes, chunks,
  checksum, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		d.DocumentId, d.Mission, d.CaseId, d.SubjectId, enumcode.Code(d.Kind), d.MediaType, d.SizeBytes, chunks,
		checksum, d.UploadedBy, d.CreateTime.AsTime())
}

// documentKind is the kind of record a document's chunks and checksum are sealed as
// (vault.Keyring.SealRecord).
const documentKind = "document"

// checksumIndex is the index a document's checksum is sealed under: no chunk has it.
const checksumIndex = -1

// Open opens part index of document doc about subject, sealed as sealed, with the person's
// wrapped data key (vault.DataKeys): a chunk as Store.Chunks gives it, or with index
// ChecksumIndex the document's SHA-256 as intake.document keeps it. For the operator's subject
// access export, which streams every document of a person.
func Open(keys *vault.Keyring, subject uuid.UUID, wrappedKey []byte, doc uuid.UUID, index int32, sealed []byte) ([]byte, error) {
	pt, err := keys.OpenRecord(subject, wrappedKey, documentKind, chunkRef(doc, index), sealed)
	if err != nil {
		return nil, fmt.Errorf("open document: %w", err)
	}
	return pt, nil
}

// ChecksumIndex is the index Open opens a document's sealed checksum under.
const ChecksumIndex = checksumIndex

// chunkRef binds a sealed chunk to its document and index (checksumIndex for the checksum):
// the document id, then the index, 4 bytes big-endian.
func chunkRef(doc uuid.UUID, index int32) []byte {
	return binary.BigEndian.AppendUint32(slices.Clone(doc[:]), uint32(index))
}
