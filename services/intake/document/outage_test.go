package document_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/objectstore/miniotest"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/document"
)

// TestObjectStoreAway: with the object store out of reach, the documents' service alone is
// NOT_SERVING; an upload and a download answer UNAVAILABLE saying that nothing was applied
// (OBJECT_STORE_UNAVAILABLE), as a database outage does, never INTERNAL; the upload leaves no
// document, the documents' metadata still lists, and once the store is back the service
// serves again and the same upload, sent again with its request id, is stored once and reads
// back whole.
func TestObjectStoreAway(t *testing.T) {
	t.Parallel()
	bucket, link := miniotest.LinkedBucket(t)
	b, stored, file := uploadedTo(t, bucket)
	c := &intakev1.Case{CaseId: stored.GetCaseId()}

	health := healthpb.NewHealthClient(b.env.Conn)
	awaitHealth(t, health, document.Name, healthpb.HealthCheckResponse_SERVING)

	link.Cut()
	// Readiness: the documents' service alone is out while its store is away.
	awaitHealth(t, health, document.Name, healthpb.HealthCheckResponse_NOT_SERVING)
	awaitHealth(t, health, intake.Name, healthpb.HealthCheckResponse_SERVING)
	awaitHealth(t, health, "", healthpb.HealthCheckResponse_SERVING)
	ctx, cancel := context.WithTimeout(b.assigned, time.Minute)
	defer cancel()
	h := header(c, len(file))
	_, err := b.upload(ctx, h, file)
	wantStoreAway(t, "UploadDocument", err)
	if n := b.env.Count(t, "intake.document"); n != 1 {
		t.Errorf("%d documents after the refused upload, want the 1 stored before", n)
	}
	_, _, err = b.download(ctx, stored.GetDocumentId())
	wantStoreAway(t, "DownloadDocument", err)
	if docs, err := b.list(ctx, c.GetCaseId()); err != nil || len(docs) != 1 {
		t.Errorf("ListDocuments while the store is away: %d documents, %v; want the 1 stored, from Postgres", len(docs), err)
	}

	link.Mend()
	awaitHealth(t, health, document.Name, healthpb.HealthCheckResponse_SERVING)
	again, err := b.upload(b.assigned, h, file)
	if err != nil {
		t.Fatalf("UploadDocument sent again once the store is back: %v", err)
	}
	if _, got, err := b.download(b.assigned, again.GetDocumentId()); err != nil || !bytes.Equal(got, file) {
		t.Errorf("DownloadDocument once the store is back: %d bytes, %v; want the %d sent", len(got), err, len(file))
	}
	if n := b.env.Count(t, "intake.document"); n != 2 {
		t.Errorf("%d documents once the upload went through, want 2", n)
	}
	if logs := b.env.Logs.String(); strings.Contains(logs, `"msg":"internal error"`) {
		t.Errorf("the store's outage was logged as an internal error:\n%s", logs)
	}
}

// awaitHealth waits until gRPC health says want of service ("" for the process).
func awaitHealth(t *testing.T, h healthpb.HealthClient, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err == nil && resp.GetStatus() == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health of %q is not %v in time (%v, %v)", service, want, resp.GetStatus(), err)
		}
	}
}

// wantStoreAway fails t unless err is UNAVAILABLE for the object store, nothing applied.
func wantStoreAway(t *testing.T, rpc string, err error) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		t.Fatalf("%s while the store is away: %v %q, want UNAVAILABLE", rpc, st.Code(), st.Message())
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == objectstore.OutageReason &&
			info.GetMetadata()[middleware.MayHaveAppliedKey] == "false" {
			return
		}
	}
	t.Errorf("%s while the store is away: details %v, want ErrorInfo %s with %s=false", rpc, st.Details(),
		objectstore.OutageReason, middleware.MayHaveAppliedKey)
}
