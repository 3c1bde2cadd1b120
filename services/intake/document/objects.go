package document

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/objectstore"
)

// ObjectStore keeps the chunks in a bucket of an S3-compatible store, one object per sealed
// chunk, several put or got at once (inFlight), under the key MISSION/DOCUMENT-ID/INDEX (INDEX in eight digits, so that keys sort
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

// inFlight is how many chunks an upload puts, or a download gets ahead, at once: a request
// to the store waits mostly on the network and the store's disk, so a few at once keep the
// transfer going, and memory stays a few chunks.
const inFlight = 4

// Writer puts each chunk's object as it comes, up to inFlight at once.
func (o ObjectStore) Writer(ctx context.Context, _ pgx.Tx, mission string, doc uuid.UUID) ChunkWriter {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(inFlight)
	return &objectWriter{bucket: o.bucket, ctx: ctx, g: g, mission: mission, doc: doc}
}

// objectWriter puts one document's chunks, several at once.
type objectWriter struct {
	bucket  *objectstore.Bucket
	ctx     context.Context // cancelled at the first failure
	g       *errgroup.Group
	mission string
	doc     uuid.UUID
}

// Put starts putting the chunk, waiting first while inFlight chunks are being put. Once a
// put has failed, or ctx has ended, it puts nothing and returns why (the first failure).
func (w *objectWriter) Put(index int32, sealed []byte) error {
	if err := context.Cause(w.ctx); err != nil {
		return err
	}
	w.g.Go(func() error { return w.bucket.Put(w.ctx, chunkKey(w.mission, w.doc, index), sealed) })
	return nil
}

// Close waits for the puts.
func (w *objectWriter) Close() error { return w.g.Wait() }

// Chunks gets the objects in order, up to inFlight ahead of fn, each read whole before fn
// sees it.
func (o ObjectStore) Chunks(ctx context.Context, _ database.Querier, mission string, doc uuid.UUID, chunks int32, fn func(index int32, sealed []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type got struct {
		sealed []byte
		err    error
	}
	// Each chunk's result arrives on a channel of its own, queued in order.
	queue := make(chan chan got, inFlight-1)
	go func() {
		defer close(queue)
		for i := range chunks {
			result := make(chan got, 1)
			select {
			case queue <- result:
			case <-ctx.Done():
				return
			}
			go func() {
				sealed, err := o.bucket.Get(ctx, chunkKey(mission, doc, i), maxSealedChunk)
				result <- got{sealed, err}
			}()
		}
	}()
	var i int32
	for result := range queue {
		r := <-result
		if r.err != nil {
			return fmt.Errorf("read document chunk: %w", r.err)
		}
		if err := fn(i, r.sealed); err != nil {
			return err
		}
		i++
	}
	return ctx.Err()
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
