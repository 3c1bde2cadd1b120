package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/subjectaccess"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// TestExportCommand runs `passage export` against a running server's database and
// development keys, as an operator would: the bundle is written, printed in counts that name
// no one, audited; a second run to the same file is refused, and so is a bad subject id.
func TestExportCommand(t *testing.T) {
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	t.Setenv("DATABASE_URL", env.AdminURL)
	t.Setenv("PASSAGE_DEV_DIR", filepath.Dir(env.KeyFiles.KEK.Path))
	t.Setenv("PASSAGE_KEK_URI", "")
	client := intakev1.NewIntakeServiceClient(env.Conn)
	resp, err := client.RegisterCase(env.As(t, auth.RoleCaseworker, "NER"), &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(),
		Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Ngozi", FamilyName: "Test", Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA"},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 1, Day: 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	subject := resp.GetCase().GetSubjectId()
	out := filepath.Join(t.TempDir(), "ngozi.tar")
	args := []string{"export", "--dev", "--mission", "NER", "--subject", subject, "--by", "dpo-1", "--request", "DPR-2026-001", "--out", out}
	var stdout, stderr bytes.Buffer
	if err := realMain(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	if got := stdout.String(); !strings.Contains(got, "subject "+subject+" of NER exported to "+out+": 1 case(s) in 1 mission(s)") || strings.Contains(got, "Ngozi") {
		t.Errorf("export printed %q", got)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != subjectaccess.RecordEntry+" "+subjectaccess.ManifestEntry {
		t.Errorf("bundle entries = %v", names)
	}
	if recs := env.AuditRecords(t, subjectaccess.Method); len(recs) != 1 || recs[0].RequestID != "DPR-2026-001" || recs[0].Actor != "dpo-1" {
		t.Errorf("audit records = %+v", recs)
	}
	if err := realMain(t.Context(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("export over the bundle: %v; want refused", err)
	}
	bad := append(args[:5:5], "not-a-uuid", "--by", "dpo-1", "--request", "DPR-2026-001", "--out", out+".2")
	if err := realMain(t.Context(), bad, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--subject") {
		t.Errorf("export of a bad subject id: %v", err)
	}
}
