package intake_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// accessBundle is a mission NER with two caseworkers, two supervisors and an administrator,
// each a distinct staff member, and a clock the test can move forward.
type accessBundle struct {
	env    *testserver.Env
	client intakev1.IntakeServiceClient
	// clock is the service's clock, for the test to move forward.
	clock                       *testtime.Clock
	amadou, binta               context.Context // caseworkers of NER
	chief, deputy               context.Context // supervisors of NER
	admin                       context.Context // administrator of NER
	otherChief, otherCaseworker context.Context // of DEU
}

const (
	amadouID = "cw-amadou"
	bintaID  = "cw-binta"
	chiefID  = "sv-chief"
	deputyID = "sv-deputy"
)

func setupAccess(t *testing.T) *accessBundle {
	t.Helper()
	clock := testtime.Ticking(today)
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}, Clock: clock.Now})
	return &accessBundle{
		env:             env,
		client:          intakev1.NewIntakeServiceClient(env.Conn),
		clock:           clock,
		amadou:          env.AsStaff(t, amadouID, auth.RoleCaseworker, "NER"),
		binta:           env.AsStaff(t, bintaID, auth.RoleCaseworker, "NER"),
		chief:           env.AsStaff(t, chiefID, auth.RoleSupervisor, "NER"),
		deputy:          env.AsStaff(t, deputyID, auth.RoleSupervisor, "NER"),
		admin:           env.AsStaff(t, "ad-nasser", auth.RoleAdmin, "NER"),
		otherChief:      env.AsStaff(t, "sv-berlin", auth.RoleSupervisor, "DEU"),
		otherCaseworker: env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU"),
	}
}

// registerAs registers a case as the given staff member, who then works on it.
func (b *accessBundle) registerAs(t *testing.T, ctx context.Context, req *intakev1.RegisterCaseRequest) *intakev1.Case {
	t.Helper()
	resp, err := b.client.RegisterCase(ctx, req)
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

func fullRead(id string, p commonv1.AccessPurpose) *intakev1.GetCaseRequest {
	return &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: p}
}

const (
	caseManagement = commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT
	breakGlass     = commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS
)

// canRead reports whether ctx reads the case's identity for purpose, failing the test on any
// outcome other than the identity or PERMISSION_DENIED.
func (b *accessBundle) canRead(t *testing.T, ctx context.Context, id string, p commonv1.AccessPurpose) bool {
	t.Helper()
	resp, err := b.client.GetCase(ctx, fullRead(id, p))
	if err != nil {
		testserver.WantCode(t, err, codes.PermissionDenied)
		return false
	}
	if resp.GetIdentity().GetPrincipal().GetPerson().GetFamilyName() != amina().GetFamilyName() {
		t.Fatalf("FULL read returned no identity: %v", resp.GetIdentity())
	}
	return true
}

func (b *accessBundle) accessRows(t *testing.T) map[string]int {
	t.Helper()
	return b.env.RowCounts(t, "intake.case_assignment", "intake.break_glass_grant", "intake.idempotency")
}

func TestIdentityOnlyForStaffWorkingOnTheCase(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	c := b.registerAs(t, b.amadou, registration(amina()))
	id := c.GetCaseId()

	// The caseworker who registered the case reads its identity; a colleague in the same
	// mission, and a supervisor, see the coded record only.
	if !b.canRead(t, b.amadou, id, caseManagement) {
		t.Error("the registering caseworker cannot read identity")
	}
	for name, ctx := range map[string]context.Context{"colleague": b.binta, "supervisor": b.chief} {
		if _, err := b.client.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: id}); err != nil {
			t.Errorf("%s: GetCase BASIC: %v", name, err)
		}
		if b.canRead(t, ctx, id, caseManagement) {
			t.Errorf("%s read the identity of a case they do not work on", name)
		}
	}

	// A supervisor assigns the colleague, who can then read it; a retry changes nothing.
	assign := &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID}
	first, err := b.client.AssignCase(b.chief, assign)
	if err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	if got := first.GetAssignment(); got.GetStaffId() != bintaID || got.GetAssignedBy() != chiefID || got.GetCaseId() != id {
		t.Errorf("assignment = %v", got)
	}
	rows := b.accessRows(t)
	again, err := b.client.AssignCase(b.chief, assign)
	if err != nil {
		t.Fatalf("AssignCase retry: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("retry (-first +retry):\n%s", diff)
	}
	// Assigning again under a new request id keeps the first assignment as it was.
	deputyAssign, err := b.client.AssignCase(b.deputy, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID})
	if err != nil || deputyAssign.GetAssignment().GetAssignedBy() != chiefID {
		t.Errorf("second assignment = %v, %v; want the first one kept", deputyAssign, err)
	}
	if got := b.env.Count(t, "intake.case_assignment"); got != rows["intake.case_assignment"] {
		t.Errorf("assignment rows %d after retries, want %d", got, rows["intake.case_assignment"])
	}
	if !b.canRead(t, b.binta, id, caseManagement) {
		t.Error("an assigned caseworker cannot read identity")
	}
	// Another request under the same request id is refused.
	_, err = b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: assign.GetRequestId(), CaseId: id, StaffId: "cw-other"})
	if st := testserver.WantCode(t, err, codes.InvalidArgument); !slices.Equal(testserver.FieldViolations(st), []string{"request_id"}) {
		t.Errorf("reused request id: violations %v", testserver.FieldViolations(st))
	}

	// Unassigned, the colleague is back to the coded record.
	unassign := &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID}
	for range 2 { // and the retry is harmless
		if _, err := b.client.UnassignCase(b.chief, unassign); err != nil {
			t.Fatalf("UnassignCase: %v", err)
		}
	}
	if b.canRead(t, b.binta, id, caseManagement) {
		t.Error("an unassigned caseworker still reads identity")
	}
	// The registering caseworker keeps the case.
	_, err = b.client.UnassignCase(b.chief, &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: amadouID})
	testserver.WantCode(t, err, codes.FailedPrecondition)

	// Refusals write nothing.
	before := b.accessRows(t)
	// A supervisor cannot assign themselves: that is break-glass, which is reviewed.
	_, err = b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: chiefID})
	testserver.WantCode(t, err, codes.PermissionDenied)
	// Caseworkers do not assign, not even themselves.
	_, err = b.client.AssignCase(b.binta, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.UnassignCase(b.amadou, &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID})
	testserver.WantCode(t, err, codes.PermissionDenied)
	// Another mission's supervisor cannot tell the case exists.
	_, err = b.client.AssignCase(b.otherChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: "cw-berlin"})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.UnassignCase(b.otherChief, &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: amadouID})
	testserver.WantCode(t, err, codes.NotFound)
	// Nor can another mission's caseworker assigned by name read it.
	if _, err := b.client.GetCase(b.otherCaseworker, fullRead(id, caseManagement)); err == nil {
		t.Error("another mission's caseworker read the case")
	}
	if diff := cmp.Diff(before, b.accessRows(t)); diff != "" {
		t.Errorf("refused calls wrote rows (-before +after):\n%s", diff)
	}
}

func TestFullReadNeedsAStatedPurpose(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	id := b.registerAs(t, b.amadou, registration(amina())).GetCaseId()

	_, err := b.client.GetCase(b.amadou, &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL})
	if st := testserver.WantCode(t, err, codes.InvalidArgument); !slices.Equal(testserver.FieldViolations(st), []string{"purpose"}) {
		t.Errorf("violations %v, want [purpose]", testserver.FieldViolations(st))
	}
	// An undefined purpose is refused by validation, naming the field too.
	_, err = b.client.GetCase(b.amadou, fullRead(id, commonv1.AccessPurpose(99)))
	if st := testserver.WantCode(t, err, codes.InvalidArgument); !slices.Equal(testserver.FieldViolations(st), []string{"purpose"}) {
		t.Errorf("violations %v, want [purpose]", testserver.FieldViolations(st))
	}
	// The basic view needs no purpose: it holds no identity.
	basic, err := b.client.GetCase(b.amadou, &intakev1.GetCaseRequest{CaseId: id})
	if err != nil || basic.GetIdentity() != nil {
		t.Errorf("GetCase BASIC = %v, %v; want the record without identity", basic.GetIdentity(), err)
	}
	// Every coded purpose but break-glass opens the case for its own caseworker.
	for v := range commonv1.AccessPurpose_name {
		p := commonv1.AccessPurpose(v)
		if p == commonv1.AccessPurpose_ACCESS_PURPOSE_UNSPECIFIED {
			continue
		}
		if got, want := b.canRead(t, b.amadou, id, p), p != breakGlass; got != want {
			t.Errorf("caseworker on the case, purpose %s: read = %v, want %v", p, got, want)
		}
	}
}

func TestBreakGlass(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	// A victim of trafficking's case, registered by its caseworker.
	reg := registration(amina())
	reg.Programme = commonv1.Programme_PROGRAMME_VOT
	reg.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
	id := b.registerAs(t, b.amadou, reg).GetCaseId()
	if b.canRead(t, b.chief, id, breakGlass) || b.canRead(t, b.chief, id, caseManagement) {
		t.Fatal("a supervisor read a victim's identity without a grant")
	}

	// The reason may name people: it must not be stored, logged or traced in clear.
	const reason = "Amina Zawadi-Okonkwo reported missing from the shelter tonight; police need her photo ID"
	req := &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id, Reason: reason, Duration: durationpb.New(20 * time.Minute)}
	resp, err := b.client.BreakGlass(b.chief, req)
	if err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	g := resp.GetGrant()
	if got := g.GetExpireTime().AsTime().Sub(g.GetCreateTime().AsTime()); got != 20*time.Minute {
		t.Errorf("grant lives %v, want 20m", got)
	}
	if g.GetGrantee() != chiefID || g.GetCaseId() != id || g.GetMission() != "NER" || g.GetReview() != nil {
		t.Errorf("grant = %v", g)
	}
	retry, err := b.client.BreakGlass(b.chief, req)
	if err != nil || !cmp.Equal(resp, retry, protocmp.Transform()) {
		t.Errorf("BreakGlass retry = %v, %v; want the first grant", retry, err)
	}
	if n := b.env.Count(t, "intake.break_glass_grant"); n != 1 {
		t.Errorf("%d grants after a retry, want 1", n)
	}
	for where, text := range map[string]string{
		"grant row": b.grantRowText(t, g.GetGrantId()), "logs": b.env.Logs.String(), "spans": testserver.SpanText(),
	} {
		for _, word := range []string{"Amina", "Zawadi", "shelter", "police"} {
			if strings.Contains(text, word) {
				t.Errorf("%s hold %q from the break-glass reason", where, word)
			}
		}
	}

	// While the grant lives, the grantee reads with purpose BREAK_GLASS, and only with it.
	if !b.canRead(t, b.chief, id, breakGlass) {
		t.Error("the grantee cannot read under a live grant")
	}
	if b.canRead(t, b.chief, id, caseManagement) {
		t.Error("a grant allowed a purpose other than BREAK_GLASS")
	}
	// The grant is the grantee's: another supervisor gets nothing from it.
	if b.canRead(t, b.deputy, id, breakGlass) {
		t.Error("another supervisor read under someone else's grant")
	}

	// The server enforces the expiry.
	b.clock.Advance(20 * time.Minute)
	if b.canRead(t, b.chief, id, breakGlass) {
		t.Error("the grantee read after the grant expired")
	}

	before := b.accessRows(t)
	for name, bad := range map[string]*intakev1.BreakGlassRequest{
		"duration": {RequestId: uuid.NewString(), CaseId: id, Reason: reason, Duration: durationpb.New(61 * time.Minute)},
		"reason":   {RequestId: uuid.NewString(), CaseId: id, Reason: "urgent"},
	} {
		_, err := b.client.BreakGlass(b.chief, bad)
		if st := testserver.WantCode(t, err, codes.InvalidArgument); !slices.Equal(testserver.FieldViolations(st), []string{name}) {
			t.Errorf("violations %v, want [%s]", testserver.FieldViolations(st), name)
		}
	}
	// Only supervisors break glass, and only in their mission.
	_, err = b.client.BreakGlass(b.binta, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id, Reason: reason})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.BreakGlass(b.admin, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id, Reason: reason})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.BreakGlass(b.otherChief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id, Reason: reason})
	testserver.WantCode(t, err, codes.NotFound)
	if diff := cmp.Diff(before, b.accessRows(t)); diff != "" {
		t.Errorf("refused calls wrote rows (-before +after):\n%s", diff)
	}

	// Unset, a grant lives 30 minutes.
	def, err := b.client.BreakGlass(b.chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id, Reason: reason})
	if err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	if got := def.GetGrant().GetExpireTime().AsTime().Sub(def.GetGrant().GetCreateTime().AsTime()); got != 30*time.Minute {
		t.Errorf("default grant lives %v, want 30m", got)
	}
}

// grantRowText is a grant's row as the database owner sees it, every column as text.
func (b *accessBundle) grantRowText(t *testing.T, grantID string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), b.env.AdminURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var text string
	if err := conn.QueryRow(context.Background(),
		`SELECT g::text || encode(g.reason_digest, 'escape') FROM intake.break_glass_grant g WHERE grant_id = $1`, grantID).Scan(&text); err != nil {
		t.Fatalf("read grant: %v", err)
	}
	return text
}

func TestBreakGlassReview(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	id := b.registerAs(t, b.amadou, registration(amina())).GetCaseId()
	var grants []*intakev1.BreakGlassGrant
	for range 3 {
		resp, err := b.client.BreakGlass(b.chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id,
			Reason: "the caseworker is away and the family is at the border post"})
		if err != nil {
			t.Fatalf("BreakGlass: %v", err)
		}
		grants = append([]*intakev1.BreakGlassGrant{resp.GetGrant()}, grants...) // newest first
	}

	// Supervisors and administrators of the mission list every grant for review, page by page.
	for name, ctx := range map[string]context.Context{"supervisor": b.deputy, "admin": b.admin} {
		var got []*intakev1.BreakGlassGrant
		req := &intakev1.ListBreakGlassGrantsRequest{UnreviewedOnly: true, PageSize: 2}
		for {
			resp, err := b.client.ListBreakGlassGrants(ctx, req)
			if err != nil {
				t.Fatalf("%s: ListBreakGlassGrants: %v", name, err)
			}
			got = append(got, resp.GetGrants()...)
			if resp.GetNextPageToken() == "" {
				break
			}
			req.PageToken = resp.GetNextPageToken()
		}
		if diff := cmp.Diff(grants, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: grants (-want +got):\n%s", name, diff)
		}
	}
	// Another mission sees none, and cannot ask for NER's.
	other, err := b.client.ListBreakGlassGrants(b.otherChief, &intakev1.ListBreakGlassGrantsRequest{})
	if err != nil || len(other.GetGrants()) != 0 {
		t.Errorf("another mission lists %d grants (%v), want 0", len(other.GetGrants()), err)
	}
	_, err = b.client.ListBreakGlassGrants(b.otherChief, &intakev1.ListBreakGlassGrantsRequest{Mission: "NER"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.ListBreakGlassGrants(b.amadou, &intakev1.ListBreakGlassGrantsRequest{})
	testserver.WantCode(t, err, codes.PermissionDenied)

	target := grants[1].GetGrantId()
	before := b.accessRows(t)
	// Nobody reviews their own grant; caseworkers review nothing; other missions find nothing.
	_, err = b.client.ReviewBreakGlass(b.chief, review(target))
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.ReviewBreakGlass(b.amadou, review(target))
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.ReviewBreakGlass(b.otherChief, review(target))
	testserver.WantCode(t, err, codes.NotFound)
	if diff := cmp.Diff(before, b.accessRows(t)); diff != "" {
		t.Errorf("refused reviews wrote rows (-before +after):\n%s", diff)
	}

	req := review(target)
	resp, err := b.client.ReviewBreakGlass(b.deputy, req)
	if err != nil {
		t.Fatalf("ReviewBreakGlass: %v", err)
	}
	if r := resp.GetGrant().GetReview(); r.GetReviewer() != deputyID || r.GetFinding() != intakev1.BreakGlassFinding_BREAK_GLASS_FINDING_NOT_JUSTIFIED {
		t.Errorf("review = %v", r)
	}
	retry, err := b.client.ReviewBreakGlass(b.deputy, req)
	if err != nil || !cmp.Equal(resp, retry, protocmp.Transform()) {
		t.Errorf("review retry = %v, %v; want the first result", retry, err)
	}
	// A finding is final.
	_, err = b.client.ReviewBreakGlass(b.admin, review(target))
	testserver.WantCode(t, err, codes.FailedPrecondition)

	left, err := b.client.ListBreakGlassGrants(b.admin, &intakev1.ListBreakGlassGrantsRequest{UnreviewedOnly: true})
	if err != nil {
		t.Fatalf("ListBreakGlassGrants: %v", err)
	}
	var ids []string
	for _, g := range left.GetGrants() {
		ids = append(ids, g.GetGrantId())
	}
	if want := []string{grants[0].GetGrantId(), grants[2].GetGrantId()}; !slices.Equal(ids, want) {
		t.Errorf("unreviewed grants %v, want %v", ids, want)
	}
	all, err := b.client.ListBreakGlassGrants(b.admin, &intakev1.ListBreakGlassGrantsRequest{})
	if err != nil || len(all.GetGrants()) != 3 || all.GetGrants()[1].GetReview().GetReviewer() != deputyID {
		t.Errorf("all grants = %v, %v; want 3 with the review on the second", all.GetGrants(), err)
	}
}

func review(grantID string) *intakev1.ReviewBreakGlassRequest {
	return &intakev1.ReviewBreakGlassRequest{RequestId: uuid.NewString(), GrantId: grantID,
		Finding: intakev1.BreakGlassFinding_BREAK_GLASS_FINDING_NOT_JUSTIFIED}
}

// TestAccessTablesInTheDatabase checks the rules the database holds under the service: a
// grant cannot be shortened, moved or deleted by the service role, and rows of the access
// tables are visible only with the mission set.
func TestAccessTablesInTheDatabase(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	id := b.registerAs(t, b.amadou, registration(amina())).GetCaseId()
	if _, err := b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	if _, err := b.client.BreakGlass(b.chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: id,
		Reason: "the caseworker is away and the family is at the border post"}); err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	pool := b.env.Pool(t, intake.Role)
	ctx := context.Background()
	for _, sql := range []string{
		`UPDATE intake.break_glass_grant SET expires_at = expires_at + interval '1 day'`,
		`UPDATE intake.break_glass_grant SET case_id = case_id`,
		`DELETE FROM intake.break_glass_grant`,
	} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, `SELECT set_config('passage.mission', 'NER', true)`)
		if err == nil {
			_, err = tx.Exec(ctx, sql)
		}
		_ = tx.Rollback(ctx)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as %s: err = %v, want permission denied", sql, intake.Role, err)
		}
	}
	for mission, want := range map[string]int{"": 0, "DEU": 0, "NER": 1} {
		for _, table := range []string{"intake.case_assignment", "intake.break_glass_grant"} {
			var n int
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if mission != "" {
					if _, err := tx.Exec(ctx, `SELECT set_config('passage.mission', $1, true)`, mission); err != nil {
						return err
					}
				}
				return tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
			})
			if err != nil || n != want {
				t.Errorf("%s with mission %q: %d rows (%v), want %d", table, mission, n, err, want)
			}
		}
	}
}

func TestOnlyStaffOnTheCaseReplaceItsIdentity(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	c := b.registerAs(t, b.amadou, registration(amina()))
	correct := func(ctx context.Context, version int64) error {
		_, err := b.client.UpdateCase(ctx, &intakev1.UpdateCaseRequest{
			RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: version,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"principal"}}, Principal: amina(),
		})
		return err
	}
	// A colleague, a supervisor, and a supervisor under a live break-glass grant: refused.
	if _, err := b.client.BreakGlass(b.chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: "the caseworker is away and the family is at the border post"}); err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	for name, ctx := range map[string]context.Context{"colleague": b.binta, "supervisor with a grant": b.chief} {
		if err := correct(ctx, c.GetVersion()); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s replaced the identity: %v, want PERMISSION_DENIED", name, err)
		}
	}
	// Other changes to the case stay open to the mission's field staff.
	if _, err := b.client.UpdateCase(b.binta, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE}); err != nil {
		t.Fatalf("colleague UpdateCase status: %v", err)
	}
	if err := correct(b.amadou, c.GetVersion()+1); err != nil {
		t.Errorf("the registering caseworker cannot correct the identity: %v", err)
	}
	if _, err := b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), StaffId: bintaID}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	if err := correct(b.binta, c.GetVersion()+2); err != nil {
		t.Errorf("an assigned caseworker cannot correct the identity: %v", err)
	}
}

// TestCaseAssignmentsArePublished: AssignCase and UnassignCase write CaseAssignmentChanged on
// the case, with the staff member, the direction and every assignee after the change; a retry
// writes nothing more, a refusal nothing at all, and the event names no one but staff.
func TestCaseAssignmentsArePublished(t *testing.T) {
	t.Parallel()
	b := setupAccess(t)
	id := b.registerAs(t, b.amadou, registration(amina())).GetCaseId()
	assignments := func() []*intakev1.CaseAssignmentChanged {
		var out []*intakev1.CaseAssignmentChanged
		for _, m := range testserver.Payloads(b.env.AggregateEvents(t, "intake", id)) {
			if e, ok := m.(*intakev1.CaseAssignmentChanged); ok {
				out = append(out, e)
			}
		}
		return out
	}
	assign := &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID}
	for range 2 { // the retry replays
		if _, err := b.client.AssignCase(b.chief, assign); err != nil {
			t.Fatalf("AssignCase: %v", err)
		}
	}
	if _, err := b.client.AssignCase(b.chief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: deputyID}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
	unassign := &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: bintaID}
	for range 2 {
		if _, err := b.client.UnassignCase(b.chief, unassign); err != nil {
			t.Fatalf("UnassignCase: %v", err)
		}
	}
	// Refused: the registering caseworker keeps the case, and another mission cannot see it.
	_, err := b.client.UnassignCase(b.chief, &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: amadouID})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	_, err = b.client.AssignCase(b.otherChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: "cw-berlin"})
	testserver.WantCode(t, err, codes.NotFound)

	want := []*intakev1.CaseAssignmentChanged{
		{CaseId: id, Mission: "NER", StaffId: bintaID, Assigned: true, Assignees: []string{bintaID}},
		{CaseId: id, Mission: "NER", StaffId: deputyID, Assigned: true, Assignees: []string{bintaID, deputyID}},
		{CaseId: id, Mission: "NER", StaffId: bintaID, Assigned: false, Assignees: []string{deputyID}},
	}
	got := assignments()
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("CaseAssignmentChanged events (-want +got):\n%s", diff)
	}
	for _, e := range got {
		text := strings.ToLower(prototext.Format(e))
		for _, p := range planted {
			if strings.Contains(text, strings.ToLower(p)) {
				t.Errorf("%v carries %q", e, p)
			}
		}
	}
}
