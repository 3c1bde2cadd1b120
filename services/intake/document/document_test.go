package document_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake/document"
)

// pattern is planted through the files the tests upload, for the scans of the database.
var pattern = []byte("PASSAGE-PLANTED-SCAN-7f3a9c1e-Amina-Zawadi-Okonkwo-A01234567-NGA!")

// TestRoundTrip: a file of several chunks, about the household member, comes back byte for
// byte with its checksum; it is listed and read as metadata; the upload publishes an event of
// ids and codes, and the reads are audited.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	eachStore(t, testRoundTrip)
}

func testRoundTrip(t *testing.T, b *bundle) {
	c := b.register(t)
	file := pdf(3*chunkSize+1234, pattern)
	h := header(c, len(file))
	h.SubjectId = c.GetHouseholdMembers()[0].GetSubjectId()
	d, err := b.upload(b.assigned, h, file)
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	if d.GetSubjectId() != h.SubjectId || d.GetSizeBytes() != int64(len(file)) || d.GetMission() != "NER" || d.GetUploadedBy() != assignedID || d.GetSha256() != "" {
		t.Fatalf("uploaded %v", d)
	}
	if n := b.chunks(t, d); n != 4 {
		t.Errorf("%d chunks stored, want 4", n)
	}
	got, bytesBack, err := b.download(b.registrar, d.GetDocumentId())
	if err != nil {
		t.Fatalf("DownloadDocument: %v", err)
	}
	if !bytes.Equal(bytesBack, file) || got.GetSha256() != sha256Hex(file) || got.GetMediaType() != "application/pdf" {
		t.Errorf("downloaded %v and %d bytes (equal: %v)", got, len(bytesBack), bytes.Equal(bytesBack, file))
	}
	meta, err := b.docs.GetDocument(b.assigned, &documentv1.GetDocumentRequest{DocumentId: d.GetDocumentId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_RETURN_TRAVEL})
	if err != nil || meta.GetDocument().GetSha256() != sha256Hex(file) {
		t.Errorf("GetDocument: %v, %v", meta, err)
	}
	docs, err := b.list(b.assigned, c.GetCaseId())
	if err != nil || len(docs) != 1 || docs[0].GetDocumentId() != d.GetDocumentId() {
		t.Errorf("ListDocuments: %v, %v", docs, err)
	}
	events := b.env.AggregateEvents(t, "intake", c.GetCaseId())
	if last := events[len(events)-1]; last.Type != "passage.document.v1.DocumentUploaded" {
		t.Errorf("last event %s", last.Type)
	}
	for method, want := range map[string]string{
		"/passage.document.v1.DocumentService/DownloadDocument": "ACCESS_PURPOSE_CASE_MANAGEMENT",
		"/passage.document.v1.DocumentService/GetDocument":      "ACCESS_PURPOSE_RETURN_TRAVEL",
		"/passage.document.v1.DocumentService/UploadDocument":   "",
	} {
		records := b.env.AuditRecords(t, method)
		if len(records) != 1 || records[0].Reason != want {
			t.Errorf("%s audited %+v, want one with reason %q", method, records, want)
		}
	}
}

// TestRefusedFiles: a type off the allow-list, a declared type the bytes do not bear out, a
// declared size over the limit, and more or fewer bytes than declared are each INVALID_ARGUMENT
// naming the field, and store nothing.
func TestRefusedFiles(t *testing.T) {
	t.Parallel()
	eachStore(t, testRefusedFiles)
}

func testRefusedFiles(t *testing.T, b *bundle) {
	c := b.register(t)
	png := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, pattern...)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), pattern...)
	for name, tc := range map[string]struct {
		media string
		size  int
		file  []byte
		field string
	}{
		"an executable":                {"application/x-msdownload", len(exe), exe, "media_type"},
		"an executable declared a PDF": {"application/pdf", len(exe), exe, "media_type"},
		"a PNG declared a PDF":         {"application/pdf", len(png), png, "media_type"},
		"a PNG of three bytes":         {"image/png", 3, png[:3], "media_type"},
		"over the limit":               {"application/pdf", 20<<20 + 1, pdf(chunkSize, pattern), "size_bytes"},
		"more than declared":           {"application/pdf", chunkSize, pdf(3*chunkSize, pattern), "size_bytes"},
		"fewer than declared":          {"application/pdf", 2 * chunkSize, pdf(chunkSize, pattern), "size_bytes"},
	} {
		h := header(c, tc.size)
		h.MediaType = tc.media
		_, err := b.upload(b.assigned, h, tc.file)
		if v := testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument)); !slices.Equal(v, []string{tc.field}) {
			t.Errorf("%s: violations %v, want %s", name, v, tc.field)
		}
	}
	if n := b.env.Count(t, "intake.document") + b.storedChunks(t); n != 0 {
		t.Errorf("%d rows or chunks stored by refused uploads", n)
	}
}

// TestWhoReads: a caseworker not on the case neither uploads nor reads; another mission finds
// nothing; a read states a purpose; the case's ASSISTANCE consent withdrawn stops both.
func TestWhoReads(t *testing.T) {
	t.Parallel()
	eachStore(t, testWhoReads)
}

func testWhoReads(t *testing.T, b *bundle) {
	c := b.register(t)
	file := pdf(1000, pattern)
	d, err := b.upload(b.registrar, header(c, len(file)), file)
	if err != nil {
		t.Fatalf("UploadDocument by the registering caseworker: %v", err)
	}
	_, err = b.upload(b.bystander, header(c, len(file)), file)
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, _, err = b.download(b.bystander, d.GetDocumentId())
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.list(b.bystander, c.GetCaseId())
	testserver.WantCode(t, err, codes.PermissionDenied)

	_, err = b.upload(b.foreign, header(c, len(file)), file)
	testserver.WantCode(t, err, codes.NotFound)
	_, _, err = b.download(b.foreign, d.GetDocumentId())
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.docs.GetDocument(b.foreign, &documentv1.GetDocumentRequest{DocumentId: d.GetDocumentId(), Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.list(b.foreign, c.GetCaseId())
	testserver.WantCode(t, err, codes.NotFound)

	_, err = b.docs.GetDocument(b.assigned, &documentv1.GetDocumentRequest{DocumentId: d.GetDocumentId()})
	if v := testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument)); !slices.Equal(v, []string{"purpose"}) {
		t.Errorf("GetDocument without a purpose: %v", v)
	}

	if _, err := b.intake.WithdrawConsent(b.assigned, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), ConsentId: c.GetConsents()[0].GetConsentId(),
		Date: &date.Date{Year: 2026, Month: 3, Day: 14}}); err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	_, _, err = b.download(b.assigned, d.GetDocumentId())
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	_, err = b.upload(b.assigned, header(c, len(file)), file)
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
}

// TestErasure: once the person is erased, their document's bytes cannot be read, its metadata
// says so, and no one uploads about them; neither the database nor the bucket ever held the
// file's bytes in clear, nor its checksum, and no object's key names the case or the person.
// A sweep of the bucket then deletes the erased document's objects.
func TestErasure(t *testing.T) {
	t.Parallel()
	eachStore(t, testErasure)
}

func testErasure(t *testing.T, b *bundle) {
	c := b.register(t)
	file := pdf(2*chunkSize+77, pattern)
	d, err := b.upload(b.assigned, header(c, len(file)), file)
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	dump := b.env.Dump(t)
	if !strings.Contains(dump, d.GetDocumentId()) {
		t.Fatal("the dump does not hold the document: the scan read nothing")
	}
	sum := sha256Hex(file)
	for _, planted := range []string{strings.ToLower(hex.EncodeToString(pattern)), strings.ToLower(string(pattern)), sum} {
		if strings.Contains(dump, planted) {
			t.Errorf("the database holds %q in clear", planted)
		}
	}
	b.scanBucket(t, c, d, file)

	if _, err := b.intake.ErasePerson(b.chief, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}); err != nil {
		t.Fatalf("ErasePerson: %v", err)
	}
	_, _, err = b.download(b.assigned, d.GetDocumentId())
	testserver.WantCode(t, err, codes.FailedPrecondition)
	docs, err := b.list(b.assigned, c.GetCaseId())
	if err != nil || len(docs) != 1 || docs[0].GetErasure().GetReason() != intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST {
		t.Errorf("ListDocuments after erasure: %v, %v", docs, err)
	}
	if b.bucket == nil {
		return // the rows stay, unreadable: nothing deletes a row
	}
	if _, err := b.sweeper(t, document.DefaultSweepGrace).Sweep(context.Background()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if left := b.objects(t); len(left) != 0 {
		t.Errorf("after erasure and a sweep, the bucket holds %d objects", len(left))
	}
	_, _, err = b.download(b.assigned, d.GetDocumentId())
	testserver.WantCode(t, err, codes.FailedPrecondition)
}

// TestRetry: an upload retried with the same request id returns the first result and stores
// nothing twice.
func TestRetry(t *testing.T) {
	t.Parallel()
	eachStore(t, testRetry)
}

func testRetry(t *testing.T, b *bundle) {
	c := b.register(t)
	file := pdf(chunkSize+10, pattern)
	h := header(c, len(file))
	first, err := b.upload(b.assigned, h, file)
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	again, err := b.upload(b.assigned, h, file)
	if err != nil || again.GetDocumentId() != first.GetDocumentId() {
		t.Fatalf("retry: %v, %v; first %v", again, err, first)
	}
	if docs, chunks := b.env.Count(t, "intake.document"), b.storedChunks(t); docs != 1 || chunks != 2 {
		t.Errorf("after a retry: %d documents, %d chunks", docs, chunks)
	}
}
