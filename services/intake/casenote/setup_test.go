package casenote_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// bundle is a server running intake (and so the notes) with the callers the tests use: in
// NER, the caseworker who registers the cases (registrar, never assigned), a caseworker a
// supervisor assigns (assigned), one who has nothing to do with the case (bystander), the
// supervisor who assigns (chief) and a supervisor assigned to the case (lead); in DEU, a
// caseworker of another mission (foreign).
type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	notes  casenotev1.CaseNoteServiceClient

	registrar, assigned, bystander, chief, lead, foreign context.Context
}

const (
	assignedID = "cw-assigned"
	leadID     = "sv-lead"
)

func setup(t *testing.T) *bundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}, Clock: testtime.Ticking(testtime.Today).Now})
	return &bundle{
		env:       env,
		intake:    intakev1.NewIntakeServiceClient(env.Conn),
		notes:     casenotev1.NewCaseNoteServiceClient(env.Conn),
		registrar: env.AsStaff(t, "cw-registrar", auth.RoleCaseworker, "NER"),
		assigned:  env.AsStaff(t, assignedID, auth.RoleCaseworker, "NER"),
		bystander: env.AsStaff(t, "cw-bystander", auth.RoleCaseworker, "NER"),
		chief:     env.AsStaff(t, "sv-chief", auth.RoleSupervisor, "NER"),
		lead:      env.AsStaff(t, leadID, auth.RoleSupervisor, "NER"),
		foreign:   env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU"),
	}
}

// register registers Amina's case with her son in NER, with her ASSISTANCE consent, and
// assigns it to the assigned caseworker and the lead supervisor.
func (b *bundle) register(t *testing.T) *intakev1.Case {
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
	for _, staff := range []string{assignedID, leadID} {
		if _, err := b.intake.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(),
			CaseId: resp.GetCase().GetCaseId(), StaffId: staff}); err != nil {
			t.Fatalf("AssignCase: %v", err)
		}
	}
	return resp.GetCase()
}

// add writes a note on c as ctx, failing the test on an error.
func (b *bundle) add(t *testing.T, ctx context.Context, c *intakev1.Case, text string, s casenotev1.Sensitivity) *casenotev1.CaseNote {
	t.Helper()
	resp, err := b.notes.AddCaseNote(ctx, &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Text: text, Sensitivity: s})
	if err != nil {
		t.Fatalf("AddCaseNote: %v", err)
	}
	return resp.GetNote()
}

// tryAdd writes a note on c as ctx, for a test that expects a refusal.
func (b *bundle) tryAdd(ctx context.Context, c *intakev1.Case, text string, s casenotev1.Sensitivity) error {
	_, err := b.notes.AddCaseNote(ctx, &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Text: text, Sensitivity: s})
	return err
}

// get reads note id as ctx for case management.
func (b *bundle) get(ctx context.Context, id string, history bool) (*casenotev1.CaseNote, error) {
	resp, err := b.notes.GetCaseNote(ctx, &casenotev1.GetCaseNoteRequest{NoteId: id, History: history,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	return resp.GetNote(), err
}

// list reads every note of case id ctx may read, for case management, page by page, with the
// count of those withheld.
func (b *bundle) list(t *testing.T, ctx context.Context, id string, pageSize int32) ([]*casenotev1.CaseNote, int32) {
	t.Helper()
	req := &casenotev1.ListCaseNotesRequest{CaseId: id, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT, PageSize: pageSize}
	var out []*casenotev1.CaseNote
	for {
		resp, err := b.notes.ListCaseNotes(ctx, req)
		if err != nil {
			t.Fatalf("ListCaseNotes: %v", err)
		}
		out = append(out, resp.GetNotes()...)
		if resp.GetNextPageToken() == "" {
			return out, resp.GetWithheldCount()
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// texts returns the texts of notes, in order.
func texts(notes []*casenotev1.CaseNote) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = n.GetText()
	}
	return out
}
