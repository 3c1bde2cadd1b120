package subjectaccess_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/objectstore/miniotest"
	"github.com/passage-cm/passage/internal/subjectaccess"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/document"
	"github.com/passage-cm/passage/services/referral"
)

// Karim's particulars and what was written about him, which the bundle must hold while he is
// known and must not hold once he is erased.
const (
	givenName = "Karim"
	family    = "Al-Rawi-Haddad"
	firstText = "Counselling: wants to go home to Mosul before winter."
	editText  = "Counselling: wants to go home to Mosul before winter; his brother will meet him."
)

// TestExport: Karim's case in DEU, with his consents, a note written and then edited, a
// scanned passport, and a hand-over to IRQ that IRQ accepted, is exported whole; the bundle
// read back holds all of it and its manifest's digests are right; the export is audited and
// the chains verify; the file is 0600 and never overwritten; NER cannot export him; once he is
// erased, his export holds no identity, note text or document bytes.
// It runs with the documents' chunks in Postgres, then in a bucket of a real MinIO.
func TestExport(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"postgres", "s3"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			var bucket *objectstore.Bucket
			if store == "s3" {
				bucket, _ = miniotest.Bucket(t)
			}
			testExport(t, bucket)
		})
	}
}

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m)) }

func testExport(t *testing.T, bucket *objectstore.Bucket) {
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec(), handover.Spec(), referral.Spec()},
		Clock: testtime.Ticking(testtime.Today).Now, DocumentBucket: bucket})
	ic := intakev1.NewIntakeServiceClient(env.Conn)
	ho := handoverv1.NewHandoverServiceClient(env.Conn)
	ref := referralv1.NewReferralServiceClient(env.Conn)
	notes := casenotev1.NewCaseNoteServiceClient(env.Conn)
	docs := documentv1.NewDocumentServiceClient(env.Conn)
	deu := env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU")
	boss := env.AsStaff(t, "sv-berlin", auth.RoleSupervisor, "DEU")
	irq := env.AsStaff(t, "sv-erbil", auth.RoleSupervisor, "IRQ")
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	d := &date.Date{Year: 2026, Month: 1, Day: 10}

	if _, err := ho.PublishHandoverProfile(hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(),
		Programme: commonv1.Programme_PROGRAMME_AVRR, Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX}}); err != nil {
		t.Fatalf("PublishHandoverProfile: %v", err)
	}
	reg, err := ic.RegisterCase(deu, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
		Principal: &commonv1.Person{GivenName: givenName, FamilyName: family, Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ",
			DateOfBirth: &date.Date{Year: 1988, Month: 4, Day: 2}},
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: d},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "IOM-IRQ", Date: d},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "NGO-SAFE", Date: d},
		},
		RegistrationDate: d,
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	c := reg.GetCase()
	subject := uuid.MustParse(c.GetSubjectId())

	added, err := notes.AddCaseNote(deu, &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Text: firstText, Sensitivity: casenotev1.Sensitivity_SENSITIVITY_NORMAL})
	if err != nil {
		t.Fatalf("AddCaseNote: %v", err)
	}
	if _, err := notes.EditCaseNote(deu, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: added.GetNote().GetNoteId(),
		Version: added.GetNote().GetVersion(), Text: editText}); err != nil {
		t.Fatalf("EditCaseNote: %v", err)
	}
	scan := make([]byte, 700<<10) // several chunks
	copy(scan, "%PDF-1.7\n")
	for i := 9; i < len(scan); i++ {
		scan[i] = byte(i * 7)
	}
	doc := upload(t, docs, deu, c, scan)

	var consentID string
	for _, x := range c.GetConsents() {
		if x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			consentID = x.GetConsentId()
		}
	}
	proposed, err := ho.ProposeHandover(deu, &handoverv1.ProposeHandoverRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Programme: c.GetProgramme(), ToMission: "IRQ", Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		Purpose: handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION, ConsentId: consentID, ProfileVersion: 1})
	if err != nil {
		t.Fatalf("ProposeHandover: %v", err)
	}
	accepted, err := ho.AcceptHandover(irq, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: proposed.GetHandover().GetHandoverId(), Version: proposed.GetHandover().GetVersion()})
	if err != nil {
		t.Fatalf("AcceptHandover: %v", err)
	}
	// Through GetCase, which waits for intake's consumer to apply the acceptance.
	if _, err := ic.GetCase(irq, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()}); err != nil {
		t.Fatalf("GetCase as IRQ: %v", err)
	}
	env.Provision(t, "cw-erbil", auth.RoleCaseworker, "IRQ")
	if _, err := ic.AssignCase(irq, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), StaffId: "cw-erbil"}); err != nil {
		t.Fatalf("AssignCase in IRQ: %v", err)
	}

	partner, made := referTo(t, ref, hq, deu, c)

	x := exporter(t, env, bucket)
	dir := t.TempDir()
	path := filepath.Join(dir, "karim.tar")
	req := subjectaccess.Request{Mission: "DEU", Subject: subject, By: "dpo-geneva", Reference: "DPR-2026-014"}
	res, err := x.Export(t.Context(), req, path)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if res.Erased || res.Cases != 1 || res.Notes != 1 || res.Documents != 1 || res.Missions != 2 {
		t.Errorf("result = %+v", res)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode: %v, %v; want 0600", fi, err)
	}

	b := readBundle(t, path)
	rec := b.record
	if rec.Format != subjectaccess.Format || rec.FormatVersion != subjectaccess.FormatVersion || rec.Mission != "DEU" ||
		rec.SubjectID != subject.String() || rec.RequestReference != "DPR-2026-014" || rec.ExportedBy != "dpo-geneva" {
		t.Errorf("record header = %+v", rec)
	}
	if rec.Identity == nil || rec.Identity["givenName"] != givenName || rec.Identity["familyName"] != family {
		t.Errorf("identity = %v; want %s %s", rec.Identity, givenName, family)
	}
	if rec.Erasure != nil {
		t.Errorf("erasure = %v; want none", rec.Erasure)
	}
	if len(rec.CaseIDs) != 1 || rec.CaseIDs[0] != c.GetCaseId() {
		t.Errorf("case ids = %v; want [%s]", rec.CaseIDs, c.GetCaseId())
	}
	if len(rec.Missions) != 2 || rec.Missions[0].Mission != "DEU" || rec.Missions[1].Mission != "IRQ" {
		t.Fatalf("missions = %v; want DEU then IRQ", rec.Missions)
	}
	own, irqSide := rec.Missions[0].Tables, rec.Missions[1].Tables
	for _, tt := range []struct {
		tables map[string][]map[string]any
		table  string
		n      int
		field  string
		want   any
	}{
		{own, "intake.case", 1, "case_id", c.GetCaseId()},
		{own, "intake.case", 1, "programme", "AVRR"},
		{own, "intake.case_member", 1, "subject_id", subject.String()},
		{own, "intake.consent", 3, "subject_id", nil},
		{own, "referral.referral", 1, "referral_id", made.GetReferralId()},
		{own, "referral.partner", 1, "partner_id", partner},
		{own, "referral.partner", 1, "signing_secret", nil},
		{own, "referral.data_profile", 1, "service_category", "SHELTER"},
		{own, "referral.transition", 2, "", nil},
		{own, "handover.handover", 1, "handover_id", accepted.GetHandover().GetHandoverId()},
		{own, "handover.handover", 1, "to_mission", "IRQ"},
		{own, "handover.profile", 1, "version", float64(1)},
		{irqSide, "intake.case_share", 1, "handover_id", accepted.GetHandover().GetHandoverId()},
		{irqSide, "intake.case_assignment", 1, "staff_id", "cw-erbil"},
		{irqSide, "handover.handover", 0, "", nil},
	} {
		rows := tt.tables[tt.table]
		if len(rows) != tt.n {
			t.Errorf("%s: %d rows, want %d: %v", tt.table, len(rows), tt.n, rows)
			continue
		}
		if tt.n > 0 && tt.field != "" && tt.table != "intake.consent" && rows[0][tt.field] != tt.want {
			t.Errorf("%s.%s = %v, want %v", tt.table, tt.field, rows[0][tt.field], tt.want)
		}
	}
	if h := rec.Missions[0].CaseHistory[c.GetCaseId()]; len(h) == 0 {
		t.Errorf("no case history in DEU")
	}
	if len(rec.Notes) != 1 || len(rec.Notes[0].Versions) != 2 || rec.Notes[0].NoteID != added.GetNote().GetNoteId() {
		t.Fatalf("notes = %+v; want one with two versions", rec.Notes)
	}
	for i, want := range []string{firstText, editText} {
		v := rec.Notes[0].Versions[i]
		if v.Version != int64(i+1) || v.Text == nil || *v.Text != want || v.Author != "cw-berlin" {
			t.Errorf("note version %d = %+v, want text %q", i+1, v, want)
		}
	}
	if len(rec.Documents) != 1 {
		t.Fatalf("documents = %+v; want one", rec.Documents)
	}
	dm := rec.Documents[0]
	wantFile := "documents/" + doc.GetDocumentId() + "/passport_scan.pdf"
	if dm.DocumentID != doc.GetDocumentId() || dm.File != wantFile || dm.SizeBytes != int64(len(scan)) ||
		dm.SHA256 != sha256Hex(scan) || dm.MediaType != "application/pdf" || dm.Kind != "PASSPORT_SCAN" {
		t.Errorf("document = %+v; want %s of %d bytes", dm, wantFile, len(scan))
	}
	if !bytes.Equal(b.files[wantFile], scan) {
		t.Errorf("document bytes differ: %d bytes, want %d", len(b.files[wantFile]), len(scan))
	}
	if len(rec.Audit) == 0 {
		t.Errorf("no audit records in the bundle")
	}

	// The manifest: every other entry, its size and digest, in the archive's order.
	m := b.manifest
	if m.Format != subjectaccess.Format || m.FormatVersion != subjectaccess.FormatVersion || m.SubjectID != subject.String() || m.Erased {
		t.Errorf("manifest = %+v", m)
	}
	if got, want := len(m.Entries), len(b.order)-1; got != want || b.order[len(b.order)-1] != subjectaccess.ManifestEntry {
		t.Errorf("manifest lists %d entries of %d, archive order %v", got, want, b.order)
	}
	for i, e := range m.Entries {
		if e.Name != b.order[i] || e.Size != int64(len(b.files[e.Name])) || e.SHA256 != sha256Hex(b.files[e.Name]) {
			t.Errorf("manifest entry %+v does not match the archive's %s", e, b.order[i])
		}
	}

	// Audited, in DEU's chain, naming the request and never the content; the chains verify.
	var exports []testserver.AuditRecord
	for _, r := range env.AuditRecords(t, subjectaccess.Method) {
		exports = append(exports, r)
	}
	if len(exports) != 1 || exports[0].Mission != "DEU" || exports[0].Actor != "dpo-geneva" || exports[0].Role != "operator" ||
		exports[0].AggregateID != subject.String() || exports[0].RequestID != "DPR-2026-014" {
		t.Errorf("export audit records = %+v", exports)
	}
	env.ChainAudit(t)

	// Never overwritten.
	before, _ := os.ReadFile(path)
	if _, err := x.Export(t.Context(), req, path); !errors.Is(err, os.ErrExist) {
		t.Errorf("export over an existing file: %v; want refused", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("the existing bundle changed")
	}

	// Another mission's person: refused, nothing written.
	other := filepath.Join(dir, "ner.tar")
	if _, err := x.Export(t.Context(), subjectaccess.Request{Mission: "NER", Subject: subject, By: "dpo-geneva", Reference: "DPR-2026-015"}, other); !errors.Is(err, intake.ErrUnknownSubject) {
		t.Errorf("export of DEU's person for NER: %v; want ErrUnknownSubject", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused export left a file: %v", err)
	}

	// Erased: the coded record and the erasure remain; no identity, note text or bytes.
	if _, err := ic.ErasePerson(boss, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}); err != nil {
		t.Fatalf("ErasePerson: %v", err)
	}
	erasedPath := filepath.Join(dir, "karim-erased.tar")
	req.Reference = "DPR-2026-016"
	res, err = x.Export(t.Context(), req, erasedPath)
	if err != nil {
		t.Fatalf("Export after erasure: %v", err)
	}
	if !res.Erased || res.Cases != 1 {
		t.Errorf("result after erasure = %+v", res)
	}
	raw, err := os.ReadFile(erasedPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, planted := range []string{givenName, family, "Mosul", "brother", string(scan[9:4096])} {
		if bytes.Contains(raw, []byte(planted)) {
			t.Errorf("the erased person's bundle holds %.20q", planted)
		}
	}
	e := readBundle(t, erasedPath)
	if e.record.Identity != nil || e.record.Erasure == nil || e.record.Erasure.Reason != "DATA_SUBJECT_REQUEST" || !e.manifest.Erased {
		t.Errorf("erased record: identity %v, erasure %+v, manifest erased %v", e.record.Identity, e.record.Erasure, e.manifest.Erased)
	}
	if len(e.record.Notes) != 1 || len(e.record.Notes[0].Versions) != 2 || e.record.Notes[0].Versions[0].Text != nil {
		t.Errorf("erased notes = %+v; want two versions without text", e.record.Notes)
	}
	if len(e.record.Documents) != 1 || e.record.Documents[0].File != "" || e.record.Documents[0].SHA256 != "" {
		t.Errorf("erased documents = %+v; want the metadata alone", e.record.Documents)
	}
	for name := range e.files {
		if strings.HasPrefix(name, "documents/") {
			t.Errorf("the erased person's bundle holds %s", name)
		}
	}
	if rows := e.record.Missions[0].Tables["vault.erasure"]; len(rows) != 1 || rows[0]["reason"] != "DATA_SUBJECT_REQUEST" {
		t.Errorf("vault.erasure rows = %v", rows)
	}
	env.ChainAudit(t)
}

// TestRefusesBadRequests: a request without its mission, subject, staff id or with a reference
// that could be a name is refused before anything is read or written.
func TestRefusesBadRequests(t *testing.T) {
	t.Parallel()
	x := &subjectaccess.Exporter{}
	ok := subjectaccess.Request{Mission: "DEU", Subject: uuid.New(), By: "dpo", Reference: "DPR-1"}
	for _, tt := range []struct {
		name string
		edit func(*subjectaccess.Request)
	}{
		{"no mission", func(r *subjectaccess.Request) { r.Mission = "" }},
		{"no subject", func(r *subjectaccess.Request) { r.Subject = uuid.Nil }},
		{"no staff id", func(r *subjectaccess.Request) { r.By = "" }},
		{"no reference", func(r *subjectaccess.Request) { r.Reference = "" }},
		{"a name as reference", func(r *subjectaccess.Request) { r.Reference = "Karim Al-Rawi" }},
	} {
		req := ok
		tt.edit(&req)
		path := filepath.Join(t.TempDir(), "b.tar")
		if _, err := x.Export(context.Background(), req, path); !errors.Is(err, subjectaccess.ErrBadRequest) {
			t.Errorf("%s: %v; want ErrBadRequest", tt.name, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a file was written", tt.name)
		}
	}
}

// referTo registers a partner agency for DEU and publishes the shelter data profile as HQ, and
// refers case c to it as worker (sent, so it is bound to the profile's version); it returns the partner's id and the referral.
func referTo(t *testing.T, ref referralv1.ReferralServiceClient, hq, worker context.Context, c *intakev1.Case) (string, *referralv1.Referral) {
	t.Helper()
	p, err := ref.RegisterPartner(hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: "NGO-SAFE",
		Name: "NGO-SAFE Berlin", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"DEU"},
		Services:   []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_HTTP_JSON},
		Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-NGO-SAFE", StartDate: &date.Date{Year: 2024, Month: 1, Day: 1},
			ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}})
	if err != nil {
		t.Fatalf("RegisterPartner: %v", err)
	}
	if _, err := ref.PublishDataProfile(hq, &referralv1.PublishDataProfileRequest{RequestId: uuid.NewString(),
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Fields:          []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_SEX}}); err != nil {
		t.Fatalf("PublishDataProfile: %v", err)
	}
	// The referral service learns of the case from intake's outbox: until it has, the case is
	// NOT_FOUND (or its consents UNAVAILABLE), and a client tries again, as this one does.
	for {
		resp, err := ref.CreateReferral(worker, &referralv1.CreateReferralRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			PartnerId: p.GetPartner().GetPartnerId(), ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
			Reason: referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE})
		switch status.Code(err) {
		case codes.OK:
			sent, err := ref.SendReferral(worker, &referralv1.SendReferralRequest{RequestId: uuid.NewString(),
				ReferralId: resp.GetReferral().GetReferralId(), Version: resp.GetReferral().GetVersion()})
			if err != nil {
				t.Fatalf("SendReferral: %v", err)
			}
			return p.GetPartner().GetPartnerId(), sent.GetReferral()
		case codes.NotFound, codes.Unavailable:
			time.Sleep(20 * time.Millisecond)
		default:
			t.Fatalf("CreateReferral: %v", err)
		}
	}
}

// exporter exports from env's database, reading the documents' chunks from bucket, or from
// Postgres when bucket is nil.
func exporter(t *testing.T, env *testserver.Env, bucket *objectstore.Bucket) *subjectaccess.Exporter {
	x := &subjectaccess.Exporter{DB: map[subjectaccess.Source]*database.DB{}, Keys: env.Keys, Documents: document.PostgresStore{}}
	if bucket != nil {
		x.Documents = document.NewObjectStore(bucket)
	}
	for _, s := range subjectaccess.Sources() {
		x.DB[s] = database.NewDB(env.Pool(t, s.Role()))
	}
	return x
}

func upload(t *testing.T, docs documentv1.DocumentServiceClient, ctx context.Context, c *intakev1.Case, file []byte) *documentv1.Document {
	t.Helper()
	stream, err := docs.UploadDocument(ctx)
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	msgs := []*documentv1.UploadDocumentRequest{{Part: &documentv1.UploadDocumentRequest_Header{Header: &documentv1.UploadHeader{
		RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Kind: documentv1.DocumentKind_DOCUMENT_KIND_PASSPORT_SCAN,
		MediaType: "application/pdf", SizeBytes: int64(len(file))}}}}
	for rest := file; len(rest) > 0; {
		k := min(256<<10, len(rest))
		msgs = append(msgs, &documentv1.UploadDocumentRequest{Part: &documentv1.UploadDocumentRequest_Chunk{Chunk: rest[:k]}})
		rest = rest[k:]
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			t.Fatalf("UploadDocument: send: %v", err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	return resp.GetDocument()
}

// readBack is a bundle read back: every entry's bytes, their order, and the two JSON files
// parsed as a reader who knows only the documented format would.
type readBack struct {
	files    map[string][]byte
	order    []string
	record   parsedRecord
	manifest parsedManifest
}

type parsedRecord struct {
	Format           string         `json:"format"`
	FormatVersion    int            `json:"format_version"`
	Mission          string         `json:"mission"`
	SubjectID        string         `json:"subject_id"`
	RequestReference string         `json:"request_reference"`
	ExportedBy       string         `json:"exported_by"`
	Identity         map[string]any `json:"identity"`
	Erasure          *struct {
		Reason string `json:"reason"`
	} `json:"erasure"`
	CaseIDs  []string `json:"case_ids"`
	Missions []struct {
		Mission     string                      `json:"mission"`
		Tables      map[string][]map[string]any `json:"tables"`
		CaseHistory map[string][]map[string]any `json:"case_history"`
	} `json:"missions"`
	Notes []struct {
		NoteID   string `json:"note_id"`
		Versions []struct {
			Version int64   `json:"version"`
			Author  string  `json:"author"`
			Text    *string `json:"text"`
		} `json:"versions"`
	} `json:"notes"`
	Documents []struct {
		DocumentID string `json:"document_id"`
		Kind       string `json:"kind"`
		MediaType  string `json:"media_type"`
		SizeBytes  int64  `json:"size_bytes"`
		SHA256     string `json:"sha256"`
		File       string `json:"file"`
	} `json:"documents"`
	Audit []map[string]any `json:"audit"`
}

type parsedManifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	SubjectID     string `json:"subject_id"`
	Erased        bool   `json:"erased"`
	Entries       []struct {
		Name   string `json:"name"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"entries"`
}

func readBundle(t *testing.T, path string) readBack {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := readBack{files: map[string][]byte{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read the bundle: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		b.files[h.Name], b.order = data, append(b.order, h.Name)
	}
	if err := json.Unmarshal(b.files[subjectaccess.RecordEntry], &b.record); err != nil {
		t.Fatalf("record.json: %v", err)
	}
	if err := json.Unmarshal(b.files[subjectaccess.ManifestEntry], &b.manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
