package document

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/objectstore"
)

// ObjectStore keeps the chunks in a bucket of an S3-compatible store, one object per sealed
// chunk, under the key MISSION/DOCUMENT-ID/INDEX (INDEX in eight digits, so that keys sort
// in order): nothing in a key or its metadata names a person or a case, and an object's
// bytes are ciphertext. A chunk is put as it arrives, before the upload's transaction
// commits: an upload that fails after some are put leaves objects no document row names,
// which the upload discards on its way out (Service.discard) and, should the process die
// first, the Sweeper deletes later.
type ObjectStore struct {
	bucket *objectstore.Bucket
}

// NewObjectStore returns the store keeping the chunks in bucket, which holds nothing else.
func NewObjectStore(bucket *objectstore.Bucket) ObjectStore { return ObjectStore{bucket: bucket} }

// maxSealedChunk bounds what a chunk's object may hold: a chunk of at most 256 KiB (the
// upload's message limit) and its sealing's overhead, with room to spare.
const maxSealedChunk = 256<<10 + 4<<10

// Put puts the chunk's object.
func (o ObjectStore) Put(ctx context.Context, _ pgx.Tx, mission string, doc uuid.UUID, index int32, sealed []byte) error {
	return o.bucket.Put(ctx, chunkKey(mission, doc, index), sealed)
}

// Chunks gets the objects one after the other, each read whole before fn sees it.
func (o ObjectStore) Chunks(ctx context.Context, _ database.Querier, mission string, doc uuid.UUID, chunks int32, fn func(index int32, sealed []byte) error) error {
	for i := range chunks {
		sealed, err := o.bucket.Get(ctx, chunkKey(mission, doc, i), maxSealedChunk)
		if err != nil {
			return fmt.Errorf("read document chunk: %w", err)
		}
		if err := fn(i, sealed); err != nil {
			return err
		}
	}
	return nil
}

// Discard deletes the document's objects.
func (o ObjectStore) Discard(ctx context.Context, mission string, doc uuid.UUID) error {
	return o.bucket.DeletePrefix(ctx, documentPrefix(mission, doc))
}

// documentPrefix is what the keys of document doc of mission start with.
func documentPrefix(mission string, doc uuid.UUID) string { return mission + "/" + doc.String() + "/" }

// chunkKey is the key of chunk index of document doc of mission.
func chunkKey(mission string, doc uuid.UUID, index int32) string {
	return fmt.Sprintf("%s%08d", documentPrefix(mission, doc), index)
}

// parsePrefix reads a document's prefix, MISSION/DOCUMENT-ID/, as List reports it; ok is
// false for anything else.
func parsePrefix(p string) (mission string, doc uuid.UUID, ok bool) {
	mission, rest, found := strings.Cut(p, "/")
	if !found || mission == "" || !strings.HasSuffix(rest, "/") {
		return "", uuid.Nil, false
	}
	doc, err := uuid.Parse(strings.TrimSuffix(rest, "/"))
	if err != nil || documentPrefix(mission, doc) != p {
		return "", uuid.Nil, false
	}
	return mission, doc, true
}
