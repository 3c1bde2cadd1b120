package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

func (f *fakeIntake) ErasePerson(_ context.Context, req *intakev1.ErasePersonRequest, _ ...grpc.CallOption) (*intakev1.ErasePersonResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.ErasePersonResponse), nil
}

func TestEraseCommand(t *testing.T) {
	t.Parallel()
	subject := "7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
	fake := &fakeIntake{resp: &intakev1.ErasePersonResponse{Erasure: &intakev1.Erasure{SubjectId: subject,
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST, EraseTime: timestamppb.New(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))}}}
	c, stdout, _ := newTestCLI(fake, tokenEnv)
	if err := c.caseRun(t.Context(), []string{"erase", testCaseID, "--subject", subject, "--reason", "data_subject_request"}); err != nil {
		t.Fatalf("erase: %v", err)
	}
	want := []proto.Message{&intakev1.ErasePersonRequest{RequestId: testRequestID, CaseId: testCaseID, SubjectId: subject,
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got := stdout.String(); got != "subject "+subject+" erased (data_subject_request) at 2026-03-14T09:00:00Z\n" {
		t.Errorf("stdout = %q", got)
	}
	// The retention job's reason is not offered.
	c, _, _ = newTestCLI(&fakeIntake{}, tokenEnv)
	if err := c.caseRun(t.Context(), []string{"erase", testCaseID, "--reason", "retention_expired"}); err == nil {
		t.Error("--reason retention_expired accepted")
	}
}

// TestKeysCommands drives `passage keys` and `passage retention report` against a running
// server's database and development keys, as an operator would: rotate, a refused retire,
// rewrap, retire; the server keeps reading every identity after reloading the keyset.
func TestKeysCommands(t *testing.T) {
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	t.Setenv("DATABASE_URL", env.AdminURL)
	t.Setenv("PASSAGE_DEV_DIR", filepath.Dir(env.KeyFiles.KEK.Path))
	for _, name := range []string{"PASSAGE_KEK_URI", "PASSAGE_RETENTION_YEARS_AVRR", "PASSAGE_RETENTION_YEARS_VOT", "PASSAGE_RETENTION_YEARS_HASM"} {
		t.Setenv(name, "")
	}
	client := intakev1.NewIntakeServiceClient(env.Conn)
	worker := env.As(t, auth.RoleCaseworker, "NER")
	var cases []string
	for _, name := range []string{"Amina", "Ngozi", "Fatou"} {
		resp, err := client.RegisterCase(worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Mission: "NER",
			Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
			Principal: &commonv1.Person{GivenName: name, FamilyName: "Test", Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA"},
			Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
				Date: &date.Date{Year: 2026, Month: 1, Day: 2}}}})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, resp.GetCase().GetCaseId())
	}
	keys := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := realMain(t.Context(), append([]string{"keys"}, append(args, "--dev")...), &stdout, &stderr)
		return stdout.String(), err
	}
	oldKey := strconv.FormatUint(uint64(env.Keys.KEKPrimary()), 10)

	out, err := keys("status")
	if err != nil || !regexp.MustCompile(oldKey+` +primary +3\n`).MatchString(out) {
		t.Fatalf("status:\n%s%v", out, err)
	}
	out, err = keys("rotate")
	if err != nil || !strings.Contains(out, "new primary KEK key") {
		t.Fatalf("rotate: %s%v", out, err)
	}
	if _, err := keys("retire", oldKey); err == nil || !strings.Contains(err.Error(), "3 people") {
		t.Fatalf("retire with rows on the key: %v", err)
	}
	if _, err := env.KeyFiles.ReloadKEK(env.Keys); err != nil { // the server's timer or SIGHUP
		t.Fatal(err)
	}
	if out, err = keys("rewrap", "--batch", "2"); err != nil || !strings.Contains(out, "3 re-wrapped") {
		t.Fatalf("rewrap: %s%v", out, err)
	}
	if out, err = keys("retire", oldKey); err != nil || !strings.Contains(out, "destroyed") {
		t.Fatalf("retire: %s%v", out, err)
	}
	if _, err := keys("retire", strconv.FormatUint(uint64(env.Keys.KEKPrimary()), 10)); err == nil {
		t.Fatal("the primary key was retired")
	}
	if _, err := env.KeyFiles.ReloadKEK(env.Keys); err != nil {
		t.Fatal(err)
	}
	out, err = keys("status")
	if err != nil || strings.Contains(out, oldKey) || !strings.Contains(out, "primary") {
		t.Fatalf("status after retirement:\n%s%v", out, err)
	}
	for _, id := range cases {
		got, err := client.GetCase(worker, &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL,
			Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
		if err != nil || got.GetIdentity().GetPrincipal().GetPerson() == nil {
			t.Fatalf("GetCase FULL after retirement: %v", err)
		}
	}

	// The operator's erasure, by subject id.
	got, err := client.GetCase(worker, &intakev1.GetCaseRequest{CaseId: cases[0]})
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	eraseArgs := []string{"erase", "--dev", "--mission", "NER", "--subject", got.GetCase().GetSubjectId(), "--reason", "consent_withdrawn", "--by", "dpo-1"}
	if err := realMain(t.Context(), eraseArgs, &stdout, &bytes.Buffer{}); err != nil || !strings.Contains(stdout.String(), "erased (consent_withdrawn)") {
		t.Fatalf("erase: %s%v", stdout.String(), err)
	}
	full, err := client.GetCase(worker, &intakev1.GetCaseRequest{CaseId: cases[0], View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil || full.GetIdentity().GetPrincipal().GetErasure().GetReason() != intakev1.ErasureReason_ERASURE_REASON_CONSENT_WITHDRAWN {
		t.Fatalf("after passage erase: %v, %v", full.GetIdentity().GetPrincipal(), err)
	}
	if n := env.QueryInt(t, `SELECT count(*) FROM vault.erasure WHERE erased_by = 'dpo-1'`); n != 1 {
		t.Fatalf("erasure records by dpo-1 = %d", n)
	}
	if err := realMain(t.Context(), []string{"erase", "--dev", "--mission", "DEU", "--subject", got.GetCase().GetSubjectId(),
		"--reason", "consent_withdrawn", "--by", "dpo-1"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("an erasure in another mission than the person's succeeded")
	}

	// The dry run counts, and names no one.
	stdout.Reset()
	if err := realMain(t.Context(), []string{"retention", "report"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "total") || strings.Contains(stdout.String(), "Amina") {
		t.Errorf("report:\n%s", stdout.String())
	}
}
