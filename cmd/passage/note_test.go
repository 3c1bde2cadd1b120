package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

const testNoteID = "5a0c1d2e-3f40-4152-8a63-74859a6b7c8d"

// fakeNotes records the last request and answers with a fixed note.
type fakeNotes struct {
	casenotev1.CaseNoteServiceClient
	got proto.Message
}

var sampleNote = &casenotev1.CaseNote{NoteId: testNoteID, CaseId: testCaseID, Mission: "NER", SubjectId: testSubjectID,
	Sensitivity: casenotev1.Sensitivity_SENSITIVITY_RESTRICTED, Version: 2, Author: "cw-amira", UpdatedBy: "sv-idris",
	CreateTime: timestamppb.New(testNow), UpdateTime: timestamppb.New(testNow.Add(time.Hour)),
	Text: "Counselled on the options.\nWants to return.",
	History: []*casenotev1.CaseNoteVersion{
		{Version: 1, Sensitivity: casenotev1.Sensitivity_SENSITIVITY_CONFIDENTIAL, Author: "cw-amira", WriteTime: timestamppb.New(testNow), Withheld: true},
		{Version: 2, Sensitivity: casenotev1.Sensitivity_SENSITIVITY_RESTRICTED, Author: "sv-idris", WriteTime: timestamppb.New(testNow.Add(time.Hour)),
			Text: "Counselled on the options.\nWants to return."},
	}}

func (f *fakeNotes) AddCaseNote(_ context.Context, req *casenotev1.AddCaseNoteRequest, _ ...grpc.CallOption) (*casenotev1.AddCaseNoteResponse, error) {
	f.got = req
	return &casenotev1.AddCaseNoteResponse{Note: &casenotev1.CaseNote{NoteId: testNoteID, CaseId: testCaseID, Version: 1}}, nil
}

func (f *fakeNotes) EditCaseNote(_ context.Context, req *casenotev1.EditCaseNoteRequest, _ ...grpc.CallOption) (*casenotev1.EditCaseNoteResponse, error) {
	f.got = req
	return &casenotev1.EditCaseNoteResponse{Note: &casenotev1.CaseNote{NoteId: testNoteID, CaseId: testCaseID, Version: 3}}, nil
}

func (f *fakeNotes) GetCaseNote(_ context.Context, req *casenotev1.GetCaseNoteRequest, _ ...grpc.CallOption) (*casenotev1.GetCaseNoteResponse, error) {
	f.got = req
	return &casenotev1.GetCaseNoteResponse{Note: sampleNote}, nil
}

func (f *fakeNotes) ListCaseNotes(_ context.Context, req *casenotev1.ListCaseNotesRequest, _ ...grpc.CallOption) (*casenotev1.ListCaseNotesResponse, error) {
	f.got = req
	erased := &casenotev1.CaseNote{NoteId: testNoteID, CaseId: testCaseID, Version: 1, CreateTime: timestamppb.New(testNow),
		UpdateTime: timestamppb.New(testNow), Erasure: &intakev1.Erasure{Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST,
			EraseTime: timestamppb.New(testNow)}}
	return &casenotev1.ListCaseNotesResponse{Notes: []*casenotev1.CaseNote{erased}, WithheldCount: 2}, nil
}

func newNoteCLI(f *fakeNotes, stdin string) (*client, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"PASSAGE_TOKEN": "tok"}
	return &client{
		cli: cli{getenv: func(k string) string { return env[k] }, stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
			now: func() time.Time { return testNow }, newRequestID: func() string { return testRequestID }},
		casenote: func(clientOptions) (casenotev1.CaseNoteServiceClient, func(), error) { return f, func() {}, nil },
	}, &stdout, &stderr
}

func TestNoteCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(file, []byte("From the file.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	purpose := commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT
	tests := []struct {
		args []string
		want proto.Message
	}{
		{[]string{"add", testCaseID, "--text", "Seen today."},
			&casenotev1.AddCaseNoteRequest{RequestId: testRequestID, CaseId: testCaseID, Text: "Seen today.", Sensitivity: casenotev1.Sensitivity_SENSITIVITY_NORMAL}},
		{[]string{"add", testCaseID, "--text-file", file, "--subject", testSubjectID, "--sensitivity", "confidential"},
			&casenotev1.AddCaseNoteRequest{RequestId: testRequestID, CaseId: testCaseID, SubjectId: testSubjectID, Text: "From the file.\n",
				Sensitivity: casenotev1.Sensitivity_SENSITIVITY_CONFIDENTIAL}},
		{[]string{"add", testCaseID, "--text-file", "-"},
			&casenotev1.AddCaseNoteRequest{RequestId: testRequestID, CaseId: testCaseID, Text: "From standard input.", Sensitivity: casenotev1.Sensitivity_SENSITIVITY_NORMAL}},
		{[]string{"edit", testNoteID, "--version", "2", "--sensitivity", "restricted"},
			&casenotev1.EditCaseNoteRequest{RequestId: testRequestID, NoteId: testNoteID, Version: 2, Sensitivity: casenotev1.Sensitivity_SENSITIVITY_RESTRICTED}},
		{[]string{"edit", testNoteID, "--version", "2", "--text", "Corrected."},
			&casenotev1.EditCaseNoteRequest{RequestId: testRequestID, NoteId: testNoteID, Version: 2, Text: "Corrected."}},
		{[]string{"get", testNoteID, "--purpose", "case_management", "--history"},
			&casenotev1.GetCaseNoteRequest{NoteId: testNoteID, Purpose: purpose, History: true}},
		{[]string{"list", testCaseID, "--purpose", "case_management", "--all"},
			&casenotev1.ListCaseNotesRequest{CaseId: testCaseID, Purpose: purpose, PageSize: 100}},
	}
	for _, tt := range tests {
		f := &fakeNotes{}
		c, _, _ := newNoteCLI(f, "From standard input.")
		if err := c.noteRun(context.Background(), tt.args); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, f.got, protocmp.Transform()); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestNoteCommandsRefuseBadFlags(t *testing.T) {
	t.Parallel()
	long := filepath.Join(t.TempDir(), "long.txt")
	if err := os.WriteFile(long, bytes.Repeat([]byte("a"), maxNoteBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"add", testCaseID}, "--text or --text-file is required"},
		{[]string{"add", testCaseID, "--text", "a", "--text-file", "f"}, "not both"},
		{[]string{"add", testCaseID, "--text-file", long}, "longer than 20000 bytes"},
		{[]string{"add", testCaseID, "--text", "a", "--sensitivity", "secret"}, "--sensitivity must be one of"},
		{[]string{"add"}, "add takes one CASE_ID"},
		{[]string{"edit", testNoteID, "--text", "a"}, "--version is required"},
		{[]string{"edit", testNoteID, "--version", "1"}, "edit changes the text"},
		{[]string{"get", testNoteID}, "needs --purpose"},
		{[]string{"list", testCaseID, "--purpose", "curiosity"}, "--purpose must be one of"},
		{[]string{"delete"}, `note: unknown command "delete"`},
	}
	for _, tt := range tests {
		c, _, _ := newNoteCLI(&fakeNotes{}, "")
		err := c.noteRun(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestNoteCommandsPrint(t *testing.T) {
	t.Parallel()
	c, stdout, _ := newNoteCLI(&fakeNotes{}, "")
	if err := c.noteRun(context.Background(), []string{"get", testNoteID, "--purpose", "case_management", "--history"}); err != nil {
		t.Fatal(err)
	}
	want := `note     5a0c1d2e-3f40-4152-8a63-74859a6b7c8d   version 2   restricted
case     3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f   mission NER   about a1b2c3d4-0000-4000-8000-000000000001
written  2026-03-14 23:30:00 UTC by cw-amira; edited 2026-03-15 00:30:00 UTC by sv-idris
   Counselled on the options.
   Wants to return.
-- version 1, confidential, 2026-03-14 23:30:00 UTC by cw-amira
   (of a sensitivity you may not read)
-- version 2, restricted, 2026-03-15 00:30:00 UTC by sv-idris
   Counselled on the options.
   Wants to return.
`
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}

	c, stdout, stderr := newNoteCLI(&fakeNotes{}, "")
	if err := c.noteRun(context.Background(), []string{"list", testCaseID, "--purpose", "case_management"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "erased   data_subject_request, 2026-03-14 23:30:00 UTC: the text can no longer be read") ||
		!strings.Contains(stderr.String(), "2 notes on the case are of a sensitivity you may not read") {
		t.Errorf("list printed:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

// TestNoteCommandsAgainstTheServer: a caseworker adds a note to a case they registered, edits
// it, lists and reads it with its history, through the real server.
func TestNoteCommandsAgainstTheServer(t *testing.T) {
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
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		vars := map[string]string{"PASSAGE_TOKEN": "carried by ctx"}
		c := &client{
			cli: cli{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr, now: time.Now,
				newRequestID: uuid.NewString},
			casenote: func(clientOptions) (casenotev1.CaseNoteServiceClient, func(), error) {
				return casenotev1.NewCaseNoteServiceClient(env.Conn), func() {}, nil
			},
		}
		if err := c.noteRun(worker, args); err != nil {
			t.Fatalf("passage note %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	}
	var added casenotev1.AddCaseNoteResponse
	if err := protojson.Unmarshal([]byte(run("add", caseID, "--text", "First session.", "--json")), &added); err != nil {
		t.Fatal(err)
	}
	noteID := added.GetNote().GetNoteId()
	run("edit", noteID, "--version", "1", "--text", "First session; wants to return.")
	if out := run("list", caseID, "--purpose", "case_management"); !strings.Contains(out, "   First session; wants to return.") {
		t.Errorf("list printed:\n%s", out)
	}
	out := run("get", noteID, "--purpose", "case_management", "--history")
	if !strings.Contains(out, "-- version 1, normal") || !strings.Contains(out, "   First session.\n") || !strings.Contains(out, "version 2") {
		t.Errorf("get printed:\n%s", out)
	}
}
