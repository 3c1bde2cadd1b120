package staff_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/staffdir"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
	"github.com/passage-cm/passage/services/intake"
)

type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	staff  staffv1.StaffServiceClient
	// admin is at HQ; chief supervises NER, where registrar registers the cases.
	admin, chief, registrar context.Context
}

func setup(t *testing.T) *bundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}, Clock: testtime.Ticking(testtime.Today).Now})
	return &bundle{
		env:       env,
		intake:    intakev1.NewIntakeServiceClient(env.Conn),
		staff:     staffv1.NewStaffServiceClient(env.Conn),
		admin:     env.As(t, auth.RoleAdmin, auth.MissionHQ),
		chief:     env.AsStaff(t, "sv-chief", auth.RoleSupervisor, "NER"),
		registrar: env.AsStaff(t, "cw-registrar", auth.RoleCaseworker, "NER"),
	}
}

func (b *bundle) provision(t *testing.T, staffID, mission string) *staffv1.StaffMember {
	t.Helper()
	resp, err := b.staff.ProvisionStaff(b.admin, &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: staffID,
		Mission: mission, Role: string(auth.RoleCaseworker)})
	if err != nil {
		t.Fatalf("ProvisionStaff: %v", err)
	}
	return resp.GetMember()
}

func (b *bundle) register(t *testing.T) string {
	t.Helper()
	d := &date.Date{Year: 2026, Month: 3, Day: 14}
	resp, err := b.intake.RegisterCase(b.registrar, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Amina", FamilyName: "Zawadi", Sex: commonv1.Sex_SEX_FEMALE,
			DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17}, Nationality: "NGA"},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: d}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase().GetCaseId()
}

func (b *bundle) assign(caseID, staffID string) error {
	_, err := b.intake.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: caseID, StaffId: staffID})
	return err
}

// wantReason checks err's code and its ErrorInfo reason.
func wantReason(t *testing.T, what string, err error, c codes.Code, reason string) {
	t.Helper()
	st := testserver.WantCode(t, err, c)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == reason {
			return
		}
	}
	t.Errorf("%s: %v, want reason %s", what, st.Details(), reason)
}

// TestLeaver: an administrator provisions a caseworker before their first sign-in, so a
// supervisor may assign them a case, which no unknown person nor another mission's staff
// may get; once deactivated, the caseworker is refused on their very next call, their case is
// unassigned (audited in the mission with the administrator as the actor), and no case can be
// assigned to them; reactivated, they may call again.
func TestLeaver(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-new", Mission: "NER", Role: "caseworker", DisplayName: "Aïcha"}
	first, err := b.staff.ProvisionStaff(b.admin, req)
	if err != nil {
		t.Fatalf("ProvisionStaff: %v", err)
	}
	if m := first.GetMember(); !m.GetActive() || m.GetVersion() != 1 || m.GetProvisioning() != staffv1.Provisioning_PROVISIONING_ADMIN {
		t.Errorf("provisioned: %v", m)
	}
	again, err := b.staff.ProvisionStaff(b.admin, req)
	if err != nil || !proto.Equal(again, first) {
		t.Errorf("the same request again: %v, %v; want the first answer", again, err)
	}
	_, err = b.staff.ProvisionStaff(b.admin, &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-new", Mission: "NER", Role: "caseworker"})
	testserver.WantCode(t, err, codes.AlreadyExists)
	_, err = b.staff.ProvisionStaff(b.chief, &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-x", Mission: "NER", Role: "caseworker"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.staff.ProvisionStaff(b.admin, &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-x", Mission: "NER", Role: "partner"})
	testserver.WantCode(t, err, codes.InvalidArgument)
	b.provision(t, "cw-rabat", "MAR")

	caseID := b.register(t)
	if err := b.assign(caseID, "cw-new"); err != nil {
		t.Fatalf("AssignCase to a provisioned caseworker: %v", err)
	}
	wantReason(t, "an unknown assignee", b.assign(caseID, "nobody"), codes.FailedPrecondition, staffdir.ReasonAssigneeUnknown)
	wantReason(t, "another mission's", b.assign(caseID, "cw-rabat"), codes.FailedPrecondition, staffdir.ReasonAssigneeMission)

	leaver := b.env.AsStaff(t, "cw-new", auth.RoleCaseworker, "NER")
	full := &intakev1.GetCaseRequest{CaseId: caseID, View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}
	if _, err := b.intake.GetCase(leaver, full); err != nil {
		t.Fatalf("the assigned caseworker reads the case: %v", err)
	}

	_, err = b.staff.DeactivateStaff(b.admin, &staffv1.DeactivateStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-new", Version: 7})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	gone, err := b.staff.DeactivateStaff(b.admin, &staffv1.DeactivateStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-new", Version: 1})
	if err != nil {
		t.Fatalf("DeactivateStaff: %v", err)
	}
	if m := gone.GetMember(); m.GetActive() || m.GetVersion() != 2 || m.GetDeactivateTime() == nil || gone.GetUnassignedCases() != 1 {
		t.Errorf("deactivated: %v", gone)
	}
	_, err = b.intake.GetCase(leaver, full)
	wantReason(t, "the leaver's next call", err, codes.PermissionDenied, staffdir.ReasonInactive)
	wantReason(t, "assigning the leaver", b.assign(caseID, "cw-new"), codes.FailedPrecondition, staffdir.ReasonAssigneeInactive)

	unassigned, err := b.intake.ListCases(b.chief, &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED})
	if err != nil || len(unassigned.GetCases()) != 1 || unassigned.GetCases()[0].GetCaseId() != caseID {
		t.Errorf("the unassigned caseload: %v, %v; want the leaver's case", unassigned, err)
	}
	var onCase int
	for _, r := range b.env.AuditRecords(t, staffv1.StaffService_DeactivateStaff_FullMethodName) {
		if r.Mission != "NER" || r.Actor != "staff-admin" {
			t.Errorf("deactivation audited as %+v", r)
		}
		if r.AggregateID == caseID {
			onCase++
		}
	}
	if onCase != 1 {
		t.Errorf("%d audit records of the deactivation on the case; want 1", onCase)
	}

	back, err := b.staff.ReactivateStaff(b.admin, &staffv1.ReactivateStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-new", Version: 2})
	if err != nil || !back.GetMember().GetActive() || back.GetMember().GetDeactivateTime() != nil {
		t.Fatalf("ReactivateStaff: %v, %v", back, err)
	}
	_, err = b.intake.GetCase(leaver, full)
	testserver.WantCode(t, err, codes.PermissionDenied) // back, but no longer on the case
	if _, err := b.intake.ListCases(leaver, &intakev1.ListCasesRequest{}); err != nil {
		t.Errorf("a reactivated caseworker's call: %v", err)
	}
}

// TestTeams: a supervisor lists and reads their own mission's team, never another's; an
// administrator any mission's; inactive members only on request; pages follow one another.
func TestTeams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{"cw-a", "cw-b", "cw-c"} {
		b.provision(t, id, "NER")
	}
	b.provision(t, "cw-rabat", "MAR")
	m := b.provision(t, "cw-gone", "NER")
	if _, err := b.staff.DeactivateStaff(b.admin, &staffv1.DeactivateStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-gone", Version: m.GetVersion()}); err != nil {
		t.Fatal(err)
	}

	var ids []string
	req := &staffv1.ListStaffRequest{Role: "caseworker", PageSize: 2}
	for {
		resp, err := b.staff.ListStaff(b.chief, req)
		if err != nil {
			t.Fatalf("ListStaff: %v", err)
		}
		for _, m := range resp.GetMembers() {
			ids = append(ids, m.GetStaffId())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	// cw-registrar signed in from claims (the setup minted its token).
	if want := []string{"cw-a", "cw-b", "cw-c", "cw-registrar"}; !slices.Equal(ids, want) {
		t.Errorf("NER's active caseworkers: %v; want %v", ids, want)
	}
	all, err := b.staff.ListStaff(b.chief, &staffv1.ListStaffRequest{Role: "caseworker", IncludeInactive: true})
	if err != nil || len(all.GetMembers()) != 5 {
		t.Errorf("with the inactive: %v, %v", all, err)
	}
	_, err = b.staff.ListStaff(b.chief, &staffv1.ListStaffRequest{Mission: "MAR"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.staff.GetStaff(b.chief, &staffv1.GetStaffRequest{StaffId: "cw-rabat"})
	testserver.WantCode(t, err, codes.NotFound)
	mar, err := b.staff.ListStaff(b.admin, &staffv1.ListStaffRequest{Mission: "MAR"})
	if err != nil || len(mar.GetMembers()) != 1 || mar.GetMembers()[0].GetStaffId() != "cw-rabat" {
		t.Errorf("an administrator lists MAR: %v, %v", mar, err)
	}
	_, err = b.staff.ListStaff(b.chief, &staffv1.ListStaffRequest{PageToken: "%%%"})
	testserver.WantCode(t, err, codes.InvalidArgument)
}

// TestProvisionChange: an administrator moves a member to another mission and role with the
// version they read; an older version is refused.
func TestProvisionChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.provision(t, "cw-moving", "NER")
	req := &staffv1.ProvisionStaffRequest{RequestId: uuid.NewString(), StaffId: "cw-moving", Mission: "MAR", Role: "supervisor",
		DisplayName: "Yasmine", Version: m.GetVersion()}
	moved, err := b.staff.ProvisionStaff(b.admin, req)
	if err != nil {
		t.Fatalf("ProvisionStaff with a version: %v", err)
	}
	if got := moved.GetMember(); got.GetMission() != "MAR" || got.GetRole() != "supervisor" || got.GetVersion() != m.GetVersion()+1 ||
		got.GetDisplayName() != "Yasmine" || got.GetProvisioning() != staffv1.Provisioning_PROVISIONING_ADMIN {
		t.Errorf("moved: %v", got)
	}
	if read, err := b.staff.GetStaff(b.admin, &staffv1.GetStaffRequest{StaffId: "cw-moving"}); err != nil || !proto.Equal(read.GetMember(), moved.GetMember()) {
		t.Errorf("read after the move: %v, %v; want %v", read, err, moved.GetMember())
	}
	req.RequestId, req.Mission = uuid.NewString(), "NER"
	_, err = b.staff.ProvisionStaff(b.admin, req)
	testserver.WantCode(t, err, codes.FailedPrecondition)
}
