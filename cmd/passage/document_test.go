package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// TestDocumentCommandsAgainstTheServer: a scan of several chunks is uploaded from a file,
// listed, and downloaded into a new file byte for byte; a download never overwrites a file,
// and a file of a refused type is refused naming the field.
func TestDocumentCommandsAgainstTheServer(t *testing.T) {
	t.Parallel()
	run, caseID := documentCLI(t, nil)
	dir := t.TempDir()
	scan, file, uploaded, _ := uploadScan(t, run, caseID)
	id := uploaded.GetDocument().GetDocumentId()
	if out, _, err := run("list", caseID, "--purpose", "case_management"); err != nil || !strings.Contains(out, id+"  passport_scan  application/pdf  600009") {
		t.Errorf("list: %v, printed:\n%s", err, out)
	}
	back := filepath.Join(dir, "back.pdf")
	if _, stderr, err := run("download", id, "--out", back, "--purpose", "return_travel"); err != nil {
		t.Fatalf("download: %v\n%s", err, stderr)
	}
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, file) {
		t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(got), err, len(file))
	}
	if _, _, err := run("download", id, "--out", back, "--purpose", "return_travel"); !os.IsExist(err) {
		t.Errorf("download over an existing file: %v", err)
	}

	exe := filepath.Join(dir, "setup.pdf")
	if err := os.WriteFile(exe, []byte("MZ\x90\x00\x03\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := run("upload", caseID, "--file", exe, "--kind", "other"); err == nil || !strings.Contains(stderr, "media_type") {
		t.Errorf("upload of an executable: %v\n%s", err, stderr)
	}
	for _, args := range [][]string{
		{"upload", caseID, "--file", scan},
		{"upload", caseID, "--file", scan, "--kind", "selfie"},
		{"download", id, "--purpose", "case_management"},
		{"download", id, "--out", filepath.Join(dir, "x")},
	} {
		if _, _, err := run(args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// documentCLI starts a server running intake, registers a case in NER and returns a runner
// of `passage document` commands as a caseworker of NER, whose calls go through wrap (when
// set) to the server, and the case's id.
func documentCLI(t *testing.T, wrap func(documentv1.DocumentServiceClient) documentv1.DocumentServiceClient) (run func(args ...string) (string, string, error), caseID string) {
	t.Helper()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	worker := env.As(t, auth.RoleCaseworker, "NER")
	reg, err := intakev1.NewIntakeServiceClient(env.Conn).RegisterCase(worker, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Amina", FamilyName: "Zawadi", Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA",
			DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17}},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 3, Day: 1}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	docs := documentv1.NewDocumentServiceClient(env.Conn)
	if wrap != nil {
		docs = wrap(docs)
	}
	return func(args ...string) (string, string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		vars := map[string]string{"PASSAGE_TOKEN": "carried by ctx"}
		c := &client{
			cli: cli{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr, now: time.Now,
				newRequestID: uuid.NewString},
			document: func(clientOptions) (documentv1.DocumentServiceClient, func(), error) {
				return docs, func() {}, nil
			},
		}
		err := c.documentRun(worker, args)
		return stdout.String(), stderr.String(), err
	}, reg.GetCase().GetCaseId()
}

// uploadScan writes a passport scan of several chunks into a new file and uploads it on case
// caseID with run; it returns the file's path and bytes, the answer and what the command said
// on stderr.
func uploadScan(t *testing.T, run func(args ...string) (string, string, error), caseID string) (string, []byte, *documentv1.UploadDocumentResponse, string) {
	t.Helper()
	scan := filepath.Join(t.TempDir(), "passport.pdf")
	file := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("scan "), 120_000)...)
	if err := os.WriteFile(scan, file, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run("upload", caseID, "--file", scan, "--kind", "passport_scan", "--json")
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, stderr)
	}
	var uploaded documentv1.UploadDocumentResponse
	if err := protojson.Unmarshal([]byte(out), &uploaded); err != nil {
		t.Fatal(err)
	}
	return scan, file, &uploaded, stderr
}

// TestDocumentUploadRetried: an upload the server answers UNAVAILABLE (here, the document
// store away) is sent again whole, under the same request id, and says at once that it is
// retrying; it is stored once. A download that fails part-way is received again from the
// start: the file holds the document once.
func TestDocumentUploadRetried(t *testing.T) {
	t.Parallel()
	flaky := &flakyDocuments{failures: 2, downloadFailures: 1}
	run, caseID := documentCLI(t, func(c documentv1.DocumentServiceClient) documentv1.DocumentServiceClient {
		flaky.DocumentServiceClient = c
		return flaky
	})
	_, file, uploaded, stderr := uploadScan(t, run, caseID)
	if !strings.Contains(stderr, "Unavailable: a store the request needs is unavailable") || !strings.Contains(stderr, "retrying until the --timeout") {
		t.Errorf("stderr does not say at once that the upload is retried:\n%s", stderr)
	}
	if got := uploaded.GetDocument().GetSizeBytes(); got != int64(len(file)) {
		t.Errorf("stored %d bytes, want the %d of the file", got, len(file))
	}
	if len(flaky.sent) != 3 || flaky.sent[0] != flaky.sent[1] || flaky.sent[1] != flaky.sent[2] {
		t.Errorf("attempts sent %v, want 3 of the whole file under one request id", flaky.sent)
	}
	if n := len(flaky.ids); n != 1 {
		t.Errorf("the attempts carried %d request ids, want 1", n)
	}

	back := filepath.Join(t.TempDir(), "back.pdf")
	if _, stderr, err := run("download", uploaded.GetDocument().GetDocumentId(), "--out", back, "--purpose", "case_management"); err != nil {
		t.Fatalf("download: %v\n%s", err, stderr)
	}
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, file) {
		t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(got), err, len(file))
	}
	if flaky.downloadFailures != 0 {
		t.Error("the download was not failed part-way, as the test means it to be")
	}
}

// flakyDocuments answers its first failures uploads UNAVAILABLE (the document store away,
// nothing applied) once their bytes are sent, and passes the rest on, recording what each
// attempt sent and under which request ids; its first downloadFailures downloads fail
// part-way.
type flakyDocuments struct {
	documentv1.DocumentServiceClient
	failures         int
	downloadFailures int      // first downloads to fail after their first message
	sent             []string // per attempt: "request id, bytes"
	ids              map[string]bool
}

func (f *flakyDocuments) UploadDocument(ctx context.Context, opts ...grpc.CallOption) (grpc.ClientStreamingClient[documentv1.UploadDocumentRequest, documentv1.UploadDocumentResponse], error) {
	if f.failures == 0 {
		real, err := f.DocumentServiceClient.UploadDocument(ctx, opts...)
		return &recordedUpload{ClientStreamingClient: real, f: f}, err
	}
	f.failures--
	return &recordedUpload{f: f, fail: true}, nil
}

func (f *flakyDocuments) DownloadDocument(ctx context.Context, req *documentv1.DownloadDocumentRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[documentv1.DownloadDocumentResponse], error) {
	real, err := f.DocumentServiceClient.DownloadDocument(ctx, req, opts...)
	if err != nil || f.downloadFailures == 0 {
		return real, err
	}
	f.downloadFailures--
	return &brokenDownload{ServerStreamingClient: real}, nil
}

// brokenDownload passes its stream's first two messages on (the document and a chunk), then
// fails as the store going away would.
type brokenDownload struct {
	grpc.ServerStreamingClient[documentv1.DownloadDocumentResponse]
	received int
}

func (d *brokenDownload) Recv() (*documentv1.DownloadDocumentResponse, error) {
	if d.received == 2 {
		return nil, storeAway()
	}
	d.received++
	return d.ServerStreamingClient.Recv()
}

// storeAway is the status the server answers while the document store is away.
func storeAway() error {
	st, err := status.New(codes.Unavailable, "a store the request needs is unavailable; nothing was applied: retry later").WithDetails(
		&errdetails.ErrorInfo{Domain: middleware.OutageDomain, Reason: objectstore.OutageReason,
			Metadata: map[string]string{middleware.MayHaveAppliedKey: "false"}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(10 * time.Millisecond)})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// recordedUpload is one attempt: it counts what is sent, and fails at the end when fail.
type recordedUpload struct {
	grpc.ClientStreamingClient[documentv1.UploadDocumentRequest, documentv1.UploadDocumentResponse]
	f     *flakyDocuments
	fail  bool
	id    string
	bytes int
}

func (u *recordedUpload) Send(m *documentv1.UploadDocumentRequest) error {
	if h := m.GetHeader(); h != nil {
		u.id = h.GetRequestId()
	}
	u.bytes += len(m.GetChunk())
	if u.fail {
		return nil
	}
	return u.ClientStreamingClient.Send(m)
}

func (u *recordedUpload) CloseAndRecv() (*documentv1.UploadDocumentResponse, error) {
	u.f.sent = append(u.f.sent, fmt.Sprintf("%s, %d bytes", u.id, u.bytes))
	if u.f.ids == nil {
		u.f.ids = map[string]bool{}
	}
	u.f.ids[u.id] = true
	if u.fail {
		return nil, storeAway()
	}
	return u.ClientStreamingClient.CloseAndRecv()
}
