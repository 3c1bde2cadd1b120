package document_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// transferSize is the size of the file BenchmarkDocumentTransfer moves.
const transferSize = 10_000_000

// BenchmarkDocumentTransfer uploads a 10 MB file and downloads it again through gRPC (client
// and server in this process, over bufconn, the database real), reporting each direction's
// MB/s, then the peak growth of the heap during one more round trip, over what it held
// before (the file's own memory included). That round trip runs with the collector started
// whenever the heap grows by a tenth, so that the peak measures what the transfer keeps, not
// the garbage a collector at its default lets pile up: bounded by the chunk size (and gRPC's
// flow-control windows), not the file size. The download is hashed as it arrives, not kept.
//
// It runs once per store: Postgres, and a bucket of a real MinIO on this machine (over TLS).
func BenchmarkDocumentTransfer(b *testing.B) {
	for _, store := range []string{postgresStore, s3Store} {
		b.Run(store, func(b *testing.B) { benchmarkTransfer(b, store) })
	}
}

func benchmarkTransfer(b *testing.B, store string) {
	bu := setup(b, store)
	c := bu.register(b)
	file := pdf(transferSize, pattern)
	var up, down time.Duration
	for i := 0; i < b.N; i++ {
		u, d := bu.roundTrip(b, c, file)
		up, down = up+u, down+d
	}
	mb := float64(transferSize) * float64(b.N) / 1e6
	b.ReportMetric(mb/up.Seconds(), "upload-MB/s")
	b.ReportMetric(mb/down.Seconds(), "download-MB/s")

	defer debug.SetGCPercent(debug.SetGCPercent(10))
	peak := watchHeap()
	bu.roundTrip(b, c, file)
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-growth-MiB")
}

// roundTrip uploads file to case c and downloads it, checking it comes back whole, and
// returns how long each direction took.
func (bu *bundle) roundTrip(b *testing.B, c *intakev1.Case, file []byte) (up, down time.Duration) {
	start := time.Now()
	d, err := bu.upload(bu.assigned, header(c, len(file)), file)
	if err != nil {
		b.Fatalf("UploadDocument: %v", err)
	}
	up = time.Since(start)
	start = time.Now()
	stream, err := bu.docs.DownloadDocument(bu.assigned, &documentv1.DownloadDocumentRequest{DocumentId: d.GetDocumentId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		b.Fatalf("DownloadDocument: %v", err)
	}
	sum := sha256.New()
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatalf("DownloadDocument: %v", err)
		}
		sum.Write(msg.GetChunk())
	}
	down = time.Since(start)
	if want := sha256.Sum256(file); !bytes.Equal(sum.Sum(nil), want[:]) {
		b.Fatal("the download differs from the upload")
	}
	return up, down
}

// watchHeap samples the heap every millisecond from now on, after a collection; the function
// it returns stops the sampling and returns the peak's growth over the start.
func watchHeap() func() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak - base
	}
}
