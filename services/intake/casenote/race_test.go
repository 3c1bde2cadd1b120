package casenote_test

import (
	"sync"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/testserver"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
)

// TestRacingRetries: retries of one AddCaseNote that race for their request id
// (testserver.Race), and concurrent retries of one EditCaseNote, all answer with the first
// result, and one note, one version, is written.
func TestRacingRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)

	add := &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Text: "Raced.", Sensitivity: normal}
	addCall := func() (*casenotev1.AddCaseNoteResponse, error) {
		return b.notes.AddCaseNote(b.assigned, proto.CloneOf(add))
	}
	added, errs := testserver.Race(t, b.env, "intake.idempotency", addCall, addCall, addCall)
	testserver.WantAlike(t, added, errs)

	edit := &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(), NoteId: added[0].GetNote().GetNoteId(), Version: 1, Text: "Raced again."}
	// Retries of an edit queue on the note's lock instead (mutation.Kind.Run), and the later
	// ones replay the first one's result.
	edited, errs := make([]*casenotev1.EditCaseNoteResponse, 3), make([]error, 3)
	var wg sync.WaitGroup
	for i := range edited {
		wg.Go(func() { edited[i], errs[i] = b.notes.EditCaseNote(b.assigned, proto.CloneOf(edit)) })
	}
	wg.Wait()
	testserver.WantAlike(t, edited, errs)

	if notes, versions := b.env.Count(t, "intake.case_note"), b.env.Count(t, "intake.case_note_version"); notes != 1 || versions != 2 {
		t.Errorf("%d notes and %d versions, want 1 and 2", notes, versions)
	}
}
