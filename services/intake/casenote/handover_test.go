package casenote_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestHandover: a case DEU hands over to IRQ. IRQ's caseworker assigned there reads none of
// DEU's notes, by list or by id, and writes notes of IRQ's own, which DEU does not see; each
// mission's reads are audited in its own chain, IRQ's naming the hand-over. A hand-over whose
// profile allows no identity field gives the receiver no notes at all.
func TestHandover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	deuWorker := b.env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU")
	irqWorker := b.env.AsStaff(t, "cw-erbil", auth.RoleCaseworker, "IRQ")
	irqChief := b.env.AsStaff(t, "sv-erbil", auth.RoleSupervisor, "IRQ")
	// HQ's AVRR profiles: version 1 allows names, version 2 coded fields only.
	for v, fields := range map[int32][]handoverv1.HandoverField{
		1: {handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_NAME},
		2: {handoverv1.HandoverField_HANDOVER_FIELD_SEX},
	} {
		b.env.Emit(t, "handover", "HQ", uuid.New(), &handoverv1.HandoverProfilePublished{Profile: &handoverv1.HandoverProfile{
			Programme: commonv1.Programme_PROGRAMME_AVRR, Version: v, PublishedBy: "pm-geneva", Fields: fields}})
	}
	handOver := func(profile int32) *intakev1.Case {
		d := &date.Date{Year: 2026, Month: 1, Day: 10}
		resp, err := b.intake.RegisterCase(deuWorker, &intakev1.RegisterCaseRequest{
			RequestId: uuid.NewString(), Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
			Principal: &commonv1.Person{GivenName: "Karim", FamilyName: "Al-Rawi", Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ",
				DateOfBirth: &date.Date{Year: 1988, Month: 4, Day: 2}},
			Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: d}},
		})
		if err != nil {
			t.Fatalf("RegisterCase: %v", err)
		}
		c := resp.GetCase()
		b.add(t, deuWorker, c, "Counselled in Berlin.", normal)
		id := uuid.New()
		b.env.Emit(t, "handover", "IRQ", id, &handoverv1.HandoverAccepted{HandoverId: id.String(), CaseId: c.GetCaseId(), FromMission: "DEU",
			ToMission: "IRQ", Programme: c.GetProgramme(), Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
			ProfileVersion: profile, Version: 2, LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS})
		// Through GetCase, which waits for intake's consumer to apply the acceptance.
		if _, err := b.intake.GetCase(irqChief, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()}); err != nil {
			t.Fatalf("GetCase as IRQ: %v", err)
		}
		if _, err := b.intake.AssignCase(irqChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			StaffId: "cw-erbil"}); err != nil {
			t.Fatalf("AssignCase in IRQ: %v", err)
		}
		return c
	}

	c := handOver(1)
	deuNotes, _ := b.list(t, deuWorker, c.GetCaseId(), 0)
	notes, withheld := b.list(t, irqWorker, c.GetCaseId(), 0)
	if len(notes) != 0 || withheld != 0 {
		t.Errorf("IRQ lists DEU's notes: %v, %d withheld", texts(notes), withheld)
	}
	_, err := b.get(irqWorker, deuNotes[0].GetNoteId(), false)
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.notes.EditCaseNote(irqWorker, &casenotev1.EditCaseNoteRequest{RequestId: uuid.NewString(),
		NoteId: deuNotes[0].GetNoteId(), Version: 1, Text: "Overwritten."})
	testserver.WantCode(t, err, codes.NotFound)

	own := b.add(t, irqWorker, c, "Met at Erbil airport.", normal)
	if own.GetMission() != "IRQ" {
		t.Errorf("IRQ's note is %s's", own.GetMission())
	}
	for _, tt := range []struct {
		ctx  context.Context
		want []string
	}{{irqWorker, []string{"Met at Erbil airport."}}, {deuWorker, []string{"Counselled in Berlin."}}} {
		notes, _ := b.list(t, tt.ctx, c.GetCaseId(), 0)
		if diff := cmp.Diff(tt.want, texts(notes)); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
	}
	_, err = b.get(deuWorker, own.GetNoteId(), false)
	testserver.WantCode(t, err, codes.NotFound)
	got, err := b.get(irqWorker, own.GetNoteId(), false)
	if err != nil || got.GetText() != "Met at Erbil airport." {
		t.Fatalf("IRQ reads its note: %v, %v", got, err)
	}
	var irqReads int
	for _, r := range b.env.AuditRecords(t, casenotev1.CaseNoteService_GetCaseNote_FullMethodName) {
		if r.Mission == "IRQ" {
			irqReads++
			if !strings.HasPrefix(r.Reason, "ACCESS_PURPOSE_CASE_MANAGEMENT handovers/") {
				t.Errorf("IRQ's read does not name the hand-over: %+v", r)
			}
		}
	}
	if irqReads != 1 {
		t.Errorf("%d reads audited in IRQ's chain, want 1", irqReads)
	}

	coded := handOver(2)
	err = b.tryAdd(irqWorker, coded, "Coded only.", normal)
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.notes.ListCaseNotes(irqWorker, &casenotev1.ListCaseNotesRequest{CaseId: coded.GetCaseId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	testserver.WantCode(t, err, codes.PermissionDenied)
}
