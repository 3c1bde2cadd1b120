package document_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/objectstore/miniotest"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/document"
)

// bundle is a server running intake (and so the documents) with the callers the tests use:
// in NER, the caseworker who registers the cases (registrar), a caseworker a supervisor
// assigns (assigned), one who has nothing to do with the case (bystander) and the supervisor
// who assigns (chief); in DEU, a caseworker of another mission (foreign). Its documents'
// chunks are kept in Postgres, or, when bucket is set, in that bucket of a real MinIO.
type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	docs   documentv1.DocumentServiceClient
	bucket *objectstore.Bucket

	registrar, assigned, bystander, chief, foreign context.Context
}

const assignedID = "cw-assigned"

// chunkSize is the size of the chunks the tests send: the largest a message may carry.
const chunkSize = 256 << 10

// The stores the documents' chunks are kept in.
const (
	postgresStore = "postgres"
	s3Store       = "s3"
)

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m)) }

// eachStore runs test once with each store, in parallel.
func eachStore(t *testing.T, test func(t *testing.T, b *bundle)) {
	for _, store := range []string{postgresStore, s3Store} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			test(t, setup(t, store))
		})
	}
}

// setup starts a server keeping the documents' chunks in store.
func setup(t testing.TB, store string) *bundle {
	t.Helper()
	var bucket *objectstore.Bucket
	if store == s3Store {
		bucket, _ = miniotest.Bucket(t)
	}
	return setupWith(t, bucket)
}

// setupWith starts a server keeping the documents' chunks in bucket, or in Postgres when it
// is nil.
func setupWith(t testing.TB, bucket *objectstore.Bucket) *bundle {
	t.Helper()
	opts := testserver.Options{Services: []bootstrap.Service{intake.Spec()}, Clock: testtime.Ticking(testtime.Today).Now,
		DocumentBucket: bucket}
	env := testserver.Start(t, opts)
	return &bundle{
		env:       env,
		intake:    intakev1.NewIntakeServiceClient(env.Conn),
		docs:      documentv1.NewDocumentServiceClient(env.Conn),
		bucket:    opts.DocumentBucket,
		registrar: env.AsStaff(t, "cw-registrar", auth.RoleCaseworker, "NER"),
		assigned:  env.AsStaff(t, assignedID, auth.RoleCaseworker, "NER"),
		bystander: env.AsStaff(t, "cw-bystander", auth.RoleCaseworker, "NER"),
		chief:     env.AsStaff(t, "sv-chief", auth.RoleSupervisor, "NER"),
		foreign:   env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU"),
	}
}

// objects reads every object of the bucket (none without one): key to bytes.
func (b *bundle) objects(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if b.bucket == nil {
		return out
	}
	ctx := context.Background()
	err := b.bucket.List(ctx, "", false, func(o objectstore.Object) error {
		blob, err := b.bucket.Get(ctx, o.Key, 1<<20)
		out[o.Key] = blob
		return err
	})
	if err != nil {
		t.Fatalf("read the bucket: %v", err)
	}
	return out
}

// chunks counts the chunks stored of document d, in the store.
func (b *bundle) chunks(t testing.TB, d *documentv1.Document) int {
	t.Helper()
	if b.bucket == nil {
		return b.env.QueryInt(t, `SELECT count(*) FROM intake.document_chunk WHERE document_id = $1`, d.GetDocumentId())
	}
	n := 0
	for key := range b.objects(t) {
		if strings.HasPrefix(key, d.GetMission()+"/"+d.GetDocumentId()+"/") {
			n++
		}
	}
	return n
}

// scanBucket fails t if an object of the bucket holds file's bytes (its planted pattern, in
// clear or hex, or its first bytes) or its checksum, or if an object's key names case c's
// people, the case or document d's uploader. It fails too when the bucket does not hold d's
// chunks: a scan that reads nothing proves nothing.
func (b *bundle) scanBucket(t testing.TB, c *intakev1.Case, d *documentv1.Document, file []byte) {
	t.Helper()
	objects := b.objects(t)
	if b.bucket != nil && b.chunks(t, d) == 0 {
		t.Fatal("the bucket holds none of the document's chunks: the scan would read nothing")
	}
	for key, blob := range objects {
		for _, planted := range [][]byte{pattern, []byte(hex.EncodeToString(pattern)), []byte(sha256Hex(file)), file[:16]} {
			if bytes.Contains(blob, planted) {
				t.Errorf("object %s holds %q in clear", key, planted)
			}
		}
		for _, id := range []string{c.GetCaseId(), c.GetSubjectId(), d.GetUploadedBy()} {
			if strings.Contains(key, id) {
				t.Errorf("object key %s names %s", key, id)
			}
		}
	}
}

// storedChunks counts every chunk in the store.
func (b *bundle) storedChunks(t testing.TB) int {
	t.Helper()
	if b.bucket == nil {
		return b.env.Count(t, "intake.document_chunk")
	}
	return len(b.objects(t))
}

// sweeper sweeps the bucket as the server's background work does, objects of no document
// deleted once grace old.
func (b *bundle) sweeper(t testing.TB, grace time.Duration) *document.Sweeper {
	return document.NewSweeper(b.env.Pool(t, intake.Role), b.bucket, grace)
}

// register registers Amina's case with her son in NER, with her ASSISTANCE consent, and
// assigns it to the assigned caseworker.
func (b *bundle) register(t testing.TB) *intakev1.Case {
	t.Helper()
	d := &date.Date{Year: 2026, Month: 3, Day: 14}
	resp, err := b.intake.RegisterCase(b.registrar, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Amina", FamilyName: "Zawadi-Okonkwo", Sex: commonv1.Sex_SEX_FEMALE,
			DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17}, Nationality: "NGA"},
		HouseholdMembers: []*commonv1.Person{{GivenName: "Chidi", FamilyName: "Zawadi-Okonkwo", Sex: commonv1.Sex_SEX_MALE,
			DateOfBirth: &date.Date{Year: 2019, Month: 1, Day: 2}, Nationality: "NGA"}},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: d}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	if _, err := b.intake.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(),
		CaseId: resp.GetCase().GetCaseId(), StaffId: assignedID}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	return resp.GetCase()
}

// header is the header of an upload of a PDF of size bytes as a passport scan on case c.
func header(c *intakev1.Case, size int) *documentv1.UploadHeader {
	return &documentv1.UploadHeader{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Kind: documentv1.DocumentKind_DOCUMENT_KIND_PASSPORT_SCAN,
		MediaType: "application/pdf", SizeBytes: int64(size)}
}

// upload sends h, then file in chunks of chunkSize, as ctx. A server that answers before the
// whole file is sent (a refusal, a retry's first result) ends the sending.
func (b *bundle) upload(ctx context.Context, h *documentv1.UploadHeader, file []byte) (*documentv1.Document, error) {
	stream, err := b.docs.UploadDocument(ctx)
	if err != nil {
		return nil, err
	}
	msgs := []*documentv1.UploadDocumentRequest{{Part: &documentv1.UploadDocumentRequest_Header{Header: h}}}
	for chunk := range slicesChunk(file, chunkSize) {
		msgs = append(msgs, &documentv1.UploadDocumentRequest{Part: &documentv1.UploadDocumentRequest_Chunk{Chunk: chunk}})
	}
	for _, m := range msgs {
		if err := stream.Send(m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
	}
	resp, err := stream.CloseAndRecv()
	return resp.GetDocument(), err
}

// slicesChunk yields b in pieces of at most n bytes, sharing b's memory.
func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

// download reads document id as ctx for case management: its metadata and bytes.
func (b *bundle) download(ctx context.Context, id string) (*documentv1.Document, []byte, error) {
	stream, err := b.docs.DownloadDocument(ctx, &documentv1.DownloadDocumentRequest{DocumentId: id,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		return nil, nil, err
	}
	var doc *documentv1.Document
	var file bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return doc, file.Bytes(), nil
		}
		if err != nil {
			return nil, nil, err
		}
		if d := msg.GetDocument(); d != nil {
			doc = d
		}
		file.Write(msg.GetChunk())
	}
}

// list reads the documents on case id as ctx for case management.
func (b *bundle) list(ctx context.Context, id string) ([]*documentv1.Document, error) {
	resp, err := b.docs.ListDocuments(ctx, &documentv1.ListDocumentsRequest{CaseId: id, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	return resp.GetDocuments(), err
}

// pdf is a PDF-signed file of size bytes with pattern repeated through it.
func pdf(size int, pattern []byte) []byte {
	file := make([]byte, size)
	copy(file, "%PDF-1.7\n")
	for i := 9; i < size; i += len(pattern) {
		copy(file[i:], pattern)
	}
	return file
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
