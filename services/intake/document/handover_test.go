package document_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestHandover: a case DEU hands over to IRQ under a profile that allows names. IRQ's
// caseworker assigned there sees none of DEU's documents, by list or by id, and uploads
// documents of IRQ's own, which DEU does not see; IRQ's reads are audited naming the
// hand-over.
func TestHandover(t *testing.T) {
	t.Parallel()
	eachStore(t, testHandover)
}

func testHandover(t *testing.T, b *bundle) {
	deuWorker := b.env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU")
	irqWorker := b.env.AsStaff(t, "cw-erbil", auth.RoleCaseworker, "IRQ")
	irqChief := b.env.AsStaff(t, "sv-erbil", auth.RoleSupervisor, "IRQ")
	b.env.Emit(t, "handover", "HQ", uuid.New(), &handoverv1.HandoverProfilePublished{Profile: &handoverv1.HandoverProfile{
		Programme: commonv1.Programme_PROGRAMME_AVRR, Version: 1, PublishedBy: "pm-geneva",
		Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_NAME}}})
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
	berlin := pdf(5000, []byte("berlin"))
	deuDoc, err := b.upload(deuWorker, header(c, len(berlin)), berlin)
	if err != nil {
		t.Fatalf("UploadDocument in DEU: %v", err)
	}
	id := uuid.New()
	b.env.Emit(t, "handover", "IRQ", id, &handoverv1.HandoverAccepted{HandoverId: id.String(), CaseId: c.GetCaseId(), FromMission: "DEU",
		ToMission: "IRQ", Programme: c.GetProgramme(), Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		ProfileVersion: 1, Version: 2, LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS})
	// Through GetCase, which waits for intake's consumer to apply the acceptance.
	if _, err := b.intake.GetCase(irqChief, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()}); err != nil {
		t.Fatalf("GetCase as IRQ: %v", err)
	}
	if _, err := b.intake.AssignCase(irqChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		StaffId: "cw-erbil"}); err != nil {
		t.Fatalf("AssignCase in IRQ: %v", err)
	}

	if docs, err := b.list(irqWorker, c.GetCaseId()); err != nil || len(docs) != 0 {
		t.Errorf("IRQ lists DEU's documents: %v, %v", docs, err)
	}
	_, _, err = b.download(irqWorker, deuDoc.GetDocumentId())
	testserver.WantCode(t, err, codes.NotFound)

	erbil := pdf(3000, []byte("erbil"))
	own, err := b.upload(irqWorker, header(c, len(erbil)), erbil)
	if err != nil || own.GetMission() != "IRQ" {
		t.Fatalf("UploadDocument in IRQ: %v, %v", own, err)
	}
	for _, tt := range []struct {
		ctx  context.Context
		want string
	}{{irqWorker, own.GetDocumentId()}, {deuWorker, deuDoc.GetDocumentId()}} {
		if docs, err := b.list(tt.ctx, c.GetCaseId()); err != nil || len(docs) != 1 || docs[0].GetDocumentId() != tt.want {
			t.Errorf("list: %v, %v; want %s alone", docs, err, tt.want)
		}
	}
	_, _, err = b.download(deuWorker, own.GetDocumentId())
	testserver.WantCode(t, err, codes.NotFound)
	_, got, err := b.download(irqWorker, own.GetDocumentId())
	if err != nil || !bytes.Equal(got, erbil) {
		t.Fatalf("IRQ downloads its document: %d bytes, %v", len(got), err)
	}
	for _, r := range b.env.AuditRecords(t, documentv1.DocumentService_DownloadDocument_FullMethodName) {
		if r.Mission == "IRQ" && !strings.HasPrefix(r.Reason, "ACCESS_PURPOSE_CASE_MANAGEMENT handovers/") {
			t.Errorf("IRQ's read does not name the hand-over: %+v", r)
		}
	}
}
