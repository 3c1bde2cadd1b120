package intake_test

import (
	"context"
	"maps"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// TestDatabaseRefusesAnotherMission is mission isolation in depth: with the server's own
// mission check switched off, a caseworker of DEU who asks for a case of NER by its id still
// gets NOT_FOUND, for every call that names a case, because the database shows a transaction
// declared for DEU no row of NER. The control at the end takes row-level security off the case
// table and sees the same read leak the case: what refused it before was the database.
func TestDatabaseRefusesAnotherMission(t *testing.T) {
	t.Parallel()
	spec := intake.Spec()
	spec.Register = func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
		intake.New(d.Pool, d.Keys, intake.WithClock(d.Clock), intake.WithoutServerMissionCheck()).Register(g)
		return nil
	}
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{spec}, Clock: testtime.NewClock(today).Now})
	client := intakev1.NewIntakeServiceClient(env.Conn)
	ner := env.As(t, auth.RoleCaseworker, "NER")
	deu := env.As(t, auth.RoleSupervisor, "DEU")

	theirs, err := client.RegisterCase(ner, registration(amina()))
	if err != nil {
		t.Fatalf("RegisterCase in NER: %v", err)
	}
	req := registration(child("Karim", 2001))
	req.Mission, req.HostCountry = "DEU", "DEU"
	mine, err := client.RegisterCase(deu, req)
	if err != nil {
		t.Fatalf("RegisterCase in DEU: %v", err)
	}
	// Without the server's check, the caller's own mission still works as it should.
	got, err := client.GetCase(deu, &intakev1.GetCaseRequest{CaseId: mine.GetCase().GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil || got.GetIdentity().GetPrincipal().GetPerson().GetGivenName() != "Karim" {
		t.Fatalf("GetCase of the caller's own case = %v, %v", got, err)
	}

	id := theirs.GetCase().GetCaseId()
	before := env.RowCounts(t, `intake."case"`, "intake.case_member", "intake.consent", "intake.idempotency",
		"vault.identity", "vault.blind_index", "outbox.event")
	for name, call := range map[string]func() error{
		"GetCase": func() error {
			_, err := client.GetCase(deu, &intakev1.GetCaseRequest{CaseId: id})
			return err
		},
		"GetCase FULL": func() error {
			_, err := client.GetCase(deu, &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL,
				Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
			return err
		},
		"UpdateCase": func() error {
			_, err := client.UpdateCase(deu, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: id, Version: 1,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE})
			return err
		},
		"CloseCase": func() error {
			_, err := client.CloseCase(deu, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: id, Version: 1,
				Reason: intakev1.ClosureReason_CLOSURE_REASON_OTHER})
			return err
		},
		"OpenCase": func() error {
			_, err := client.OpenCase(deu, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: id,
				Programme: commonv1.Programme_PROGRAMME_VOT, Consents: assistanceConsent()})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			testserver.WantCode(t, call(), codes.NotFound)
		})
	}
	if after := env.RowCounts(t, `intake."case"`, "intake.case_member", "intake.consent", "intake.idempotency",
		"vault.identity", "vault.blind_index", "outbox.event"); !maps.Equal(before, after) {
		t.Errorf("refused calls wrote: before %v, after %v", before, after)
	}

	// The control: without row-level security on intake."case", nothing else stops the read.
	env.ExecAsOwner(t, `ALTER TABLE intake."case" NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY`)
	leaked, err := client.GetCase(deu, &intakev1.GetCaseRequest{CaseId: id})
	if err != nil || leaked.GetCase().GetMission() != "NER" {
		t.Fatalf("control: GetCase without row-level security = %v, %v; want NER's case (the seam must really switch the server's check off)", leaked, err)
	}
	// Its people stayed hidden: their table still has row-level security.
	if !proto.Equal(leaked.GetCase().GetPrincipal(), (*intakev1.CaseMember)(nil)) {
		t.Errorf("control: the case's members leaked too: %v", leaked.GetCase().GetPrincipal())
	}
}
