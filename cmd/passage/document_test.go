package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
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
	caseID := reg.GetCase().GetCaseId()
	run := func(args ...string) (string, string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		vars := map[string]string{"PASSAGE_TOKEN": "carried by ctx"}
		c := &client{
			cli: cli{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr, now: time.Now,
				newRequestID: uuid.NewString},
			document: func(clientOptions) (documentv1.DocumentServiceClient, func(), error) {
				return documentv1.NewDocumentServiceClient(env.Conn), func() {}, nil
			},
		}
		err := c.documentRun(worker, args)
		return stdout.String(), stderr.String(), err
	}
	dir := t.TempDir()
	scan := filepath.Join(dir, "passport.pdf")
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
