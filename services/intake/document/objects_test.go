package document_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/objectstore/miniotest"
	"github.com/passage-cm/passage/internal/testserver"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	"github.com/passage-cm/passage/services/intake/document"
)

// TestSweepOrphans: objects no document row names (an upload whose process died before it
// could discard them) are left alone while younger than the grace period and deleted after;
// a live document's objects, and a key that is not a document's, are kept.
func TestSweepOrphans(t *testing.T) {
	t.Parallel()
	b, live, file := uploadedToS3(t)
	ctx := context.Background()
	orphan := "NER/" + uuid.NewString() + "/"
	for _, key := range []string{orphan + "00000000", orphan + "00000001", "not-a-document"} {
		if err := b.bucket.Put(ctx, key, []byte("sealed")); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if n, err := b.sweeper(t, time.Hour).Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep within the grace period: %d deleted, %v", n, err)
	}
	if n := len(b.objects(t)); n != 5 {
		t.Fatalf("%d objects after a sweep within the grace period, want 5", n)
	}
	// The grace negative: every object is older than "now" less the grace, whatever the
	// store's and the test's clocks say.
	if n, err := b.sweeper(t, -time.Hour).Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep past the grace period: %d deleted, %v; want the orphan", n, err)
	}
	var keys []string
	for key := range b.objects(t) {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	want := []string{"NER/" + live.GetDocumentId() + "/00000000", "NER/" + live.GetDocumentId() + "/00000001", "not-a-document"}
	if !slices.Equal(keys, want) {
		t.Errorf("after the sweep the bucket holds %v, want %v", keys, want)
	}
	_, got, err := b.download(b.assigned, live.GetDocumentId())
	if err != nil || !bytes.Equal(got, file) {
		t.Errorf("the live document after the sweep: %d bytes, %v", len(got), err)
	}
}

// TestMissingObject: a document whose object has gone from the bucket (deleted by hand) fails
// its download with INTERNAL, not with a short file.
func TestMissingObject(t *testing.T) {
	t.Parallel()
	b, d, _ := uploadedToS3(t)
	if err := b.bucket.DeletePrefix(context.Background(), "NER/"+d.GetDocumentId()+"/00000001"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	_, _, err := b.download(b.assigned, d.GetDocumentId())
	testserver.WantCode(t, err, codes.Internal)
}

// uploadedToS3 starts a server keeping the chunks in a bucket and uploads a file of two
// chunks to a new case: the server, the document and the file.
func uploadedToS3(t *testing.T) (*bundle, *documentv1.Document, []byte) {
	t.Helper()
	bucket, _ := miniotest.Bucket(t)
	return uploadedTo(t, bucket)
}

// uploadedTo is uploadedToS3 with the chunks kept in bucket.
func uploadedTo(t *testing.T, bucket *objectstore.Bucket) (*bundle, *documentv1.Document, []byte) {
	t.Helper()
	b := setupWith(t, bucket)
	c := b.register(t)
	file := pdf(chunkSize+5, pattern)
	d, err := b.upload(b.assigned, header(c, len(file)), file)
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	return b, d, file
}

// TestWriterEnded: a writer whose context has ended refuses a chunk rather than dropping it
// and reporting success.
func TestWriterEnded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := document.NewObjectStore(nil).Writer(ctx, nil, "NER", uuid.New())
	if err := w.Put(0, []byte("sealed")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put after the context ended: %v, want context.Canceled", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
