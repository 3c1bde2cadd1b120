package attack_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// identityBench is intake alone, with a clock the test moves forward, and a victim of
// trafficking's case registered by its caseworker in mission A, her passport among its facts.
type identityBench struct {
	env    *testserver.Env
	client intakev1.IntakeServiceClient
	clock  *testtime.Clock // the service's clock, for the test to move forward
	caseID string
}

func newIdentityBench(t *testing.T) *identityBench {
	t.Helper()
	clock := testtime.Running()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}, Clock: clock.Now})
	b := &identityBench{env: env, client: intakev1.NewIntakeServiceClient(env.Conn), clock: clock}
	resp, err := b.client.RegisterCase(env.AsStaff(t, "cw-own", auth.RoleCaseworker, missionA), &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: missionA, Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Mariam", FamilyName: "Traore", Sex: commonv1.Sex_SEX_FEMALE,
			DateOfBirth: &date.Date{Year: 2001, Month: 6, Day: 5}, Nationality: "MLI",
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: victimPassport, IssuingCountry: "MLI"}}},
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING},
		Consents:        consents(reg), RegistrationDate: reg,
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	b.caseID = resp.GetCase().GetCaseId()
	return b
}

// wantNoIdentity fails unless the FULL read is PERMISSION_DENIED.
func (b *identityBench) wantNoIdentity(t *testing.T, who string, ctx context.Context, purpose commonv1.AccessPurpose) {
	t.Helper()
	resp, err := b.client.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: b.caseID, View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: purpose})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("%s, FULL with %v: %v (identity %v), want PERMISSION_DENIED", who, purpose, err, resp.GetIdentity() != nil)
	}
}

// purposes are every purpose a caller can state. (Stating none is INVALID_ARGUMENT before
// any access is decided: intake's TestFullReadNeedsAStatedPurpose.)
func purposes() []commonv1.AccessPurpose {
	var out []commonv1.AccessPurpose
	for n := range commonv1.AccessPurpose_name {
		if n != 0 {
			out = append(out, commonv1.AccessPurpose(n))
		}
	}
	return out
}

// TestColleagueNotOnTheCase is a caseworker of the victim's own mission who does not work on
// the case: asking for the identity under any stated purpose is refused, and neither is the
// way onto the case (assigning it to oneself, breaking glass) open to them. The refused
// reads leave no audit record: nothing was read. The coded record stays readable, so the
// refusal is the identity's, not the case's.
func TestColleagueNotOnTheCase(t *testing.T) {
	t.Parallel()
	b := newIdentityBench(t)
	colleague := b.env.AsStaff(t, "cw-colleague", auth.RoleCaseworker, missionA)
	before := b.env.RowCounts(t, "audit.record", "intake.case_assignment", "intake.break_glass_grant", "intake.idempotency")

	if _, err := b.client.GetCase(colleague, &intakev1.GetCaseRequest{CaseId: b.caseID}); err != nil {
		t.Fatalf("the coded record: %v", err)
	}
	for _, p := range purposes() {
		b.wantNoIdentity(t, "a colleague not on the case", colleague, p)
	}
	_, err := b.client.AssignCase(colleague, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: b.caseID, StaffId: "cw-colleague"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.BreakGlass(colleague, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: b.caseID,
		Reason: "the person is missing and the police ask for the file"})
	testserver.WantCode(t, err, codes.PermissionDenied)

	if diff := cmp.Diff(before, b.env.RowCounts(t, "audit.record", "intake.case_assignment", "intake.break_glass_grant", "intake.idempotency")); diff != "" {
		t.Errorf("refused attempts wrote rows (-before +after):\n%s", diff)
	}
}

// TestColleagueOpensACaseForThePerson is the side door: a caseworker not on the case opens
// a case in another programme for the same person (OpenCase), becomes the creator of that
// one, and asks for its identity, which is the same vault row. Opening a case from another
// is only for staff working on the source case.
func TestColleagueOpensACaseForThePerson(t *testing.T) {
	t.Parallel()
	b := newIdentityBench(t)
	colleague := b.env.AsStaff(t, "cw-colleague", auth.RoleCaseworker, missionA)
	before := b.env.RowCounts(t, "audit.record", `intake."case"`, "intake.idempotency", "outbox.event")

	resp, err := b.client.OpenCase(colleague, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: b.caseID,
		Programme: commonv1.Programme_PROGRAMME_AVRR, Consents: consents(onDay), RegistrationDate: onDay})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("OpenCase from a case the caller does not work on: %v, want PERMISSION_DENIED", err)
	}
	if err == nil {
		full, err := b.client.GetCase(colleague, &intakev1.GetCaseRequest{CaseId: resp.GetCase().GetCaseId(),
			View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
		if err == nil && full.GetIdentity().GetPrincipal().GetPerson().GetFamilyName() != "" {
			t.Error("through the new case, the colleague read the identity of a person whose case they do not work on")
		}
		return
	}
	if diff := cmp.Diff(before, b.env.RowCounts(t, "audit.record", `intake."case"`, "intake.idempotency", "outbox.event")); diff != "" {
		t.Errorf("the refused OpenCase wrote rows (-before +after):\n%s", diff)
	}
}

// TestExpiredBreakGlass is a supervisor whose break-glass grant has run out (the service's
// clock moved past it): the identity is refused under every purpose, and sending the
// original BreakGlass request again returns the first, expired grant rather than a new one,
// so a replayed request id cannot renew an emergency.
func TestExpiredBreakGlass(t *testing.T) {
	t.Parallel()
	b := newIdentityBench(t)
	chief := b.env.AsStaff(t, "sv-chief", auth.RoleSupervisor, missionA)
	req := &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: b.caseID,
		Reason: "the person is missing and the police ask for the file", Duration: durationpb.New(time.Minute)}
	first, err := b.client.BreakGlass(chief, req)
	if err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	// Live, the grant opens the identity: the refusals below are the expiry's doing.
	if _, err := b.client.GetCase(chief, &intakev1.GetCaseRequest{CaseId: b.caseID, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS}); err != nil {
		t.Fatalf("FULL read under a live grant: %v", err)
	}

	b.clock.Advance(time.Minute + time.Second)
	before := b.env.RowCounts(t, "audit.record", "intake.break_glass_grant", "intake.idempotency")
	for _, p := range purposes() {
		b.wantNoIdentity(t, "a supervisor with an expired grant", chief, p)
	}
	again, err := b.client.BreakGlass(chief, req)
	if err != nil {
		t.Fatalf("BreakGlass replayed: %v", err)
	}
	if again.GetGrant().GetGrantId() != first.GetGrant().GetGrantId() || !again.GetGrant().GetExpireTime().AsTime().Equal(first.GetGrant().GetExpireTime().AsTime()) {
		t.Errorf("the replayed request renewed the grant: %v, first %v", again.GetGrant(), first.GetGrant())
	}
	b.wantNoIdentity(t, "a supervisor after replaying the grant's request", chief, commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS)
	if diff := cmp.Diff(before, b.env.RowCounts(t, "audit.record", "intake.break_glass_grant", "intake.idempotency")); diff != "" {
		t.Errorf("refused reads and the replay wrote rows (-before +after):\n%s", diff)
	}
}
