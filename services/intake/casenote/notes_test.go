package casenote_test

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/testserver"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	normal       = casenotev1.Sensitivity_SENSITIVITY_NORMAL
	restricted   = casenotev1.Sensitivity_SENSITIVITY_RESTRICTED
	confidential = casenotev1.Sensitivity_SENSITIVITY_CONFIDENTIAL
)

// TestNoteLifecycle: a note is added, edited (text, then sensitivity alone), read with its
// history and listed newest first across pages; each change publishes an event of ids and
// codes, and each read is audited with its purpose.
func TestNoteLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.assigned, c, "First counselling session.", normal)
	if n.GetVersion() != 1 || n.GetSubjectId() != c.GetSubjectId() || n.GetAuthor() != assignedID || n.GetMission() != "NER" || n.GetText() != "" {
		t.Fatalf("added %v", n)
	}
	edited, err := b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(),
		Version: 1, Text: "First counselling session; wants to return."})
	if err != nil || edited.GetNote().GetVersion() != 2 {
		t.Fatalf("EditCaseNote text: %v, %v", edited, err)
	}
	edited, err = b.notes.EditCaseNote(b.lead, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(),
		Version: 2, Sensitivity: restricted})
	if err != nil || edited.GetNote().GetVersion() != 3 || edited.GetNote().GetUpdatedBy() != leadID {
		t.Fatalf("EditCaseNote sensitivity: %v, %v", edited, err)
	}

	got, err := b.get(b.assigned, n.GetNoteId(), true)
	if err != nil {
		t.Fatalf("GetCaseNote: %v", err)
	}
	if got.GetText() != "First counselling session; wants to return." || got.GetSensitivity() != restricted || got.GetVersion() != 3 {
		t.Errorf("read %v", got)
	}
	var history []string
	for _, v := range got.GetHistory() {
		history = append(history, v.GetAuthor()+": "+v.GetSensitivity().String()+": "+v.GetText())
	}
	want := []string{
		assignedID + ": SENSITIVITY_NORMAL: First counselling session.",
		assignedID + ": SENSITIVITY_NORMAL: First counselling session; wants to return.",
		leadID + ": SENSITIVITY_RESTRICTED: First counselling session; wants to return.",
	}
	if diff := cmp.Diff(want, history); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if plain, _ := b.get(b.assigned, n.GetNoteId(), false); len(plain.GetHistory()) != 0 {
		t.Errorf("history without asking: %v", plain.GetHistory())
	}

	for _, text := range []string{"Second.", "Third.", "Fourth."} {
		b.add(t, b.registrar, c, text, normal)
	}
	notes, withheld := b.list(t, b.assigned, c.GetCaseId(), 2)
	if diff := cmp.Diff([]string{"Fourth.", "Third.", "Second.", "First counselling session; wants to return."}, texts(notes)); diff != "" || withheld != 0 {
		t.Errorf("list (-want +got):\n%s, withheld %d", diff, withheld)
	}

	var events []string
	for _, p := range testserver.Payloads(b.env.AggregateEvents(t, "intake", c.GetCaseId())) {
		switch e := p.(type) {
		case *casenotev1.NoteAdded:
			events = append(events, "added "+e.GetSensitivity().String())
		case *casenotev1.NoteEdited:
			events = append(events, "edited "+e.GetSensitivity().String())
		default:
			continue
		}
		if text := prototext.Format(p); strings.Contains(text, "counselling") || !strings.Contains(text, c.GetCaseId()) {
			t.Errorf("event %s", text)
		}
	}
	if diff := cmp.Diff([]string{"added SENSITIVITY_NORMAL", "edited SENSITIVITY_NORMAL", "edited SENSITIVITY_RESTRICTED",
		"added SENSITIVITY_NORMAL", "added SENSITIVITY_NORMAL", "added SENSITIVITY_NORMAL"}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for method, want := range map[string]string{casenotev1.CaseNoteService_GetCaseNote_FullMethodName: n.GetNoteId(),
		casenotev1.CaseNoteService_ListCaseNotes_FullMethodName: c.GetCaseId()} {
		records := b.env.AuditRecords(t, method)
		if len(records) == 0 {
			t.Fatalf("%s: no audit record", method)
		}
		for _, r := range records {
			if r.Reason != "ACCESS_PURPOSE_CASE_MANAGEMENT" || r.AggregateID != want {
				t.Errorf("%s audited as %+v", method, r)
			}
		}
	}
}

// TestSensitivity: the registering caseworker, not assigned, reads and writes NORMAL notes
// only; the assigned caseworker RESTRICTED ones too; CONFIDENTIAL notes are the supervisors'
// working on the case; a caseworker who does not work on the case reads none, and a history
// shows a reader only the versions of a sensitivity they may read.
func TestSensitivity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	b.add(t, b.registrar, c, "Registered; documents checked.", normal)
	err := b.tryAdd(b.registrar, c, "Restricted.", restricted)
	testserver.WantCode(t, err, codes.PermissionDenied)
	r := b.add(t, b.assigned, c, "Medical needs discussed.", restricted)
	err = b.tryAdd(b.assigned, c, "Confidential.", confidential)
	testserver.WantCode(t, err, codes.PermissionDenied)
	x := b.add(t, b.lead, c, "Her account of the journey.", confidential)

	for _, tt := range []struct {
		who      string
		ctx      context.Context
		notes    []string
		withheld int32
	}{
		{"registrar", b.registrar, []string{"Registered; documents checked."}, 2},
		{"assigned", b.assigned, []string{"Medical needs discussed.", "Registered; documents checked."}, 1},
		{"lead", b.lead, []string{"Her account of the journey.", "Medical needs discussed.", "Registered; documents checked."}, 0},
	} {
		notes, withheld := b.list(t, tt.ctx, c.GetCaseId(), 0)
		if diff := cmp.Diff(tt.notes, texts(notes)); diff != "" || withheld != tt.withheld {
			t.Errorf("%s lists (-want +got):\n%s, %d withheld (want %d)", tt.who, diff, withheld, tt.withheld)
		}
	}
	_, err = b.get(b.registrar, r.GetNoteId(), false)
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.get(b.assigned, x.GetNoteId(), false)
	testserver.WantCode(t, err, codes.PermissionDenied)
	// The chief supervises the mission but does not work on the case: no note at all, as no
	// identity, without a break-glass grant.
	_, err = b.get(b.chief, x.GetNoteId(), false)
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.notes.ListCaseNotes(b.bystander, &casenotev1.ListCaseNotesRequest{CaseId: c.GetCaseId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	testserver.WantCode(t, err, codes.PermissionDenied)
	err = b.tryAdd(b.bystander, c, "Not mine.", normal)
	testserver.WantCode(t, err, codes.PermissionDenied)
	// The assigned caseworker may not move a note to where they could not read it.
	_, err = b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: r.GetNoteId(),
		Version: 1, Sensitivity: confidential})
	testserver.WantCode(t, err, codes.PermissionDenied)

	// The lead makes the account NORMAL with a summary: the registrar reads the summary, and
	// the first version's metadata only.
	if _, err := b.notes.EditCaseNote(b.lead, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: x.GetNoteId(),
		Version: 1, Text: "Summary: needs protection follow-up.", Sensitivity: normal}); err != nil {
		t.Fatalf("EditCaseNote: %v", err)
	}
	got, err := b.get(b.registrar, x.GetNoteId(), true)
	if err != nil {
		t.Fatalf("GetCaseNote: %v", err)
	}
	h := got.GetHistory()
	if len(h) != 2 || !h[0].GetWithheld() || h[0].GetText() != "" || h[0].GetSensitivity() != confidential ||
		h[1].GetWithheld() || h[1].GetText() != "Summary: needs protection follow-up." {
		t.Errorf("history as the registrar: %v", h)
	}

	// Under a break-glass grant the chief reads, for that purpose only, and writes nothing.
	if _, err := b.intake.BreakGlass(b.chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: "The person is at the hospital and cannot answer."}); err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	_, err = b.get(b.chief, r.GetNoteId(), false)
	testserver.WantCode(t, err, codes.PermissionDenied)
	glass, err := b.notes.GetCaseNote(b.chief, &casenotev1.GetCaseNoteRequest{NoteId: r.GetNoteId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS})
	if err != nil || glass.GetNote().GetText() != "Medical needs discussed." {
		t.Errorf("break-glass read: %v, %v", glass, err)
	}
	err = b.tryAdd(b.chief, c, "Emergency.", normal)
	testserver.WantCode(t, err, codes.PermissionDenied)
}

// TestOtherMissions: another mission's caseworker finds neither the case's notes nor a note
// by its id, and cannot write one.
func TestOtherMissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.registrar, c, "Seen at the office.", normal)
	_, err := b.get(b.foreign, n.GetNoteId(), false)
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.notes.ListCaseNotes(b.foreign, &casenotev1.ListCaseNotesRequest{CaseId: c.GetCaseId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	testserver.WantCode(t, err, codes.NotFound)
	err = b.tryAdd(b.foreign, c, "Probe.", normal)
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.notes.EditCaseNote(b.foreign, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(),
		Version: 1, Text: "Probe."})
	testserver.WantCode(t, err, codes.NotFound)
}

// TestErasure: erasing the person a note is about makes it unreadable at once: the reads say
// erased, and it can no longer be edited. A note about another person of the case is not
// touched.
func TestErasure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.assigned, c, "She described the shelter.", normal)
	son, err := b.notes.AddCaseNote(b.assigned, &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		SubjectId: c.GetHouseholdMembers()[0].GetSubjectId(), Text: "Her son goes to school.", Sensitivity: normal})
	if err != nil {
		t.Fatalf("AddCaseNote about the son: %v", err)
	}
	if _, err := b.intake.ErasePerson(b.chief, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}); err != nil {
		t.Fatalf("ErasePerson: %v", err)
	}
	got, err := b.get(b.assigned, n.GetNoteId(), true)
	if err != nil {
		t.Fatalf("GetCaseNote: %v", err)
	}
	if got.GetText() != "" || got.GetErasure().GetReason() != intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST ||
		got.GetHistory()[0].GetText() != "" {
		t.Errorf("read after erasure: %v", got)
	}
	notes, _ := b.list(t, b.assigned, c.GetCaseId(), 0)
	if diff := cmp.Diff([]string{"Her son goes to school.", ""}, texts(notes)); diff != "" || notes[1].GetErasure() == nil {
		t.Errorf("list after erasure (-want +got):\n%s", diff)
	}
	if son.GetNote().GetSubjectId() == c.GetSubjectId() {
		t.Fatal("the son's note is about the principal")
	}
	_, err = b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(),
		Version: 1, Sensitivity: restricted})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	err = b.tryAdd(b.assigned, c, "After.", normal)
	testserver.WantCode(t, err, codes.FailedPrecondition)
}

// TestNoNoteTextInTheDatabase reads every row of every table as the owner, as a dump would
// show it, and finds none of a planted note's words, in clear or hex-encoded, in any version;
// nor in the logs.
func TestNoNoteTextInTheDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.assigned, c, "Met Yusuf Oduya at Gare Routiere Agadez", normal)
	if _, err := b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(),
		Version: 1, Text: "Met Yusuf Oduya again, Tillaberi checkpoint"}); err != nil {
		t.Fatalf("EditCaseNote: %v", err)
	}
	if _, err := b.get(b.assigned, n.GetNoteId(), true); err != nil {
		t.Fatalf("GetCaseNote: %v", err)
	}
	// A refused call with the text, so that error paths are in the logs too.
	err := b.tryAdd(b.foreign, c, "Met Yusuf Oduya at Gare Routiere Agadez", normal)
	testserver.WantCode(t, err, codes.NotFound)

	dump := b.env.Dump(t)
	if !strings.Contains(dump, n.GetNoteId()) || b.env.Count(t, "intake.case_note_version") != 2 {
		t.Fatal("the dump does not hold the note: the scan read nothing")
	}
	logs := strings.ToLower(b.env.Logs.String())
	for _, word := range []string{"Yusuf", "Oduya", "Routiere", "Agadez", "Tillaberi", "checkpoint"} {
		for _, form := range []string{strings.ToLower(word), hex.EncodeToString([]byte(word)), hex.EncodeToString([]byte(strings.ToLower(word)))} {
			if strings.Contains(dump, form) {
				t.Errorf("the database holds %q (as %q)", word, form)
			}
		}
		if strings.Contains(logs, strings.ToLower(word)) {
			t.Errorf("the logs hold %q", word)
		}
	}
}

// TestIdempotentReplay: a retry returns the first result and writes nothing again; the same
// request id for another request is refused; an edit from a stale version is refused.
func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	req := &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Text: "Once.", Sensitivity: normal}
	first, err := b.notes.AddCaseNote(b.assigned, req)
	if err != nil {
		t.Fatalf("AddCaseNote: %v", err)
	}
	again, err := b.notes.AddCaseNote(b.assigned, req)
	if err != nil || !proto.Equal(first, again) {
		t.Fatalf("retry: %v, %v; want %v", again, err, first)
	}
	if n := b.env.Count(t, "intake.case_note"); n != 1 {
		t.Errorf("%d notes after a retry", n)
	}
	other := proto.Clone(req).(*casenotev1.AddCaseNoteRequest)
	other.Text = "Twice."
	_, err = b.notes.AddCaseNote(b.assigned, other)
	if v := testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument)); !slices.Equal(v, []string{"request_id"}) {
		t.Errorf("violations %v", v)
	}

	edit := &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: first.GetNote().GetNoteId(), Version: 1, Text: "Once more."}
	e1, err := b.notes.EditCaseNote(b.assigned, edit)
	if err != nil {
		t.Fatalf("EditCaseNote: %v", err)
	}
	e2, err := b.notes.EditCaseNote(b.assigned, edit)
	if err != nil || !proto.Equal(e1, e2) {
		t.Fatalf("edit retry: %v, %v", e2, err)
	}
	_, err = b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(),
		NoteId: first.GetNote().GetNoteId(), Version: 1, Text: "Stale."})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	if n := b.env.Count(t, "intake.case_note_version"); n != 2 {
		t.Errorf("%d versions, want 2", n)
	}
}

// TestInvalidInput: each bad request is INVALID_ARGUMENT naming its field, and writes nothing.
func TestInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.assigned, c, "Valid.", normal)
	add := func(edit func(*casenotev1.AddCaseNoteRequest)) error {
		req := &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Text: "Valid.", Sensitivity: normal}
		edit(req)
		_, err := b.notes.AddCaseNote(b.assigned, req)
		return err
	}
	for _, tt := range []struct {
		name  string
		err   error
		field string
	}{
		{"empty text", add(func(r *casenotev1.AddCaseNoteRequest) { r.Text = "" }), "text"},
		{"blank text", add(func(r *casenotev1.AddCaseNoteRequest) { r.Text = " \n\t " }), "text"},
		{"too long", add(func(r *casenotev1.AddCaseNoteRequest) { r.Text = strings.Repeat("é", 10001) }), "text"},
		{"no sensitivity", add(func(r *casenotev1.AddCaseNoteRequest) { r.Sensitivity = 0 }), "sensitivity"},
		{"bad sensitivity", add(func(r *casenotev1.AddCaseNoteRequest) { r.Sensitivity = 99 }), "sensitivity"},
		{"bad case", add(func(r *casenotev1.AddCaseNoteRequest) { r.CaseId = "case-1" }), "case_id"},
		{"not a person of the case", add(func(r *casenotev1.AddCaseNoteRequest) { r.SubjectId = uuid.NewString() }), "subject_id"},
		{"empty edit", func() error {
			_, err := b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(), Version: 1})
			return err
		}(), "text"},
		{"bad edit sensitivity", func() error {
			_, err := b.notes.EditCaseNote(b.assigned, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: n.GetNoteId(),
				Version: 1, Sensitivity: 7})
			return err
		}(), "sensitivity"},
		{"no purpose", func() error {
			_, err := b.notes.GetCaseNote(b.assigned, &casenotev1.GetCaseNoteRequest{NoteId: n.GetNoteId()})
			return err
		}(), "purpose"},
		{"no list purpose", func() error {
			_, err := b.notes.ListCaseNotes(b.assigned, &casenotev1.ListCaseNotesRequest{CaseId: c.GetCaseId()})
			return err
		}(), "purpose"},
	} {
		if v := testserver.FieldViolations(testserver.WantCode(t, tt.err, codes.InvalidArgument)); !slices.Contains(v, tt.field) {
			t.Errorf("%s: violations %v, want %s", tt.name, v, tt.field)
		}
	}
	if got := b.env.Count(t, "intake.case_note_version"); got != 1 {
		t.Errorf("%d versions after refused calls, want 1", got)
	}
}

// TestConsent: without the case's ASSISTANCE consent in force, notes are neither written nor
// read.
func TestConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.assigned, c, "Before the withdrawal.", normal)
	if _, err := b.intake.WithdrawConsent(b.assigned, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), ConsentId: c.GetConsents()[0].GetConsentId(),
		Date: &date.Date{Year: 2026, Month: 3, Day: 14}}); err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	err := b.tryAdd(b.assigned, c, "After.", normal)
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	_, err = b.get(b.assigned, n.GetNoteId(), false)
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	_, err = b.notes.ListCaseNotes(b.assigned, &casenotev1.ListCaseNotesRequest{CaseId: c.GetCaseId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
}
