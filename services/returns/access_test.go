package returns_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

func TestMissionIsolationAndRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING)

	// A VoT case of the same mission has no return: AVRR only follows AVRR cases.
	vot := registration(relative("Mira", commonv1.Sex_SEX_FEMALE, 1999))
	vot.Programme = commonv1.Programme_PROGRAMME_VOT
	votCase, err := b.intake.RegisterCase(b.worker, vot)
	if err != nil {
		t.Fatal(err)
	}
	before := b.stored(t)
	for name, id := range map[string]string{"VoT case": votCase.GetCase().GetCaseId(), "unknown case": uuid.NewString()} {
		_, err := b.client.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: id})
		testserver.WantCode(t, err, codes.NotFound)
		_, err = b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: id, Version: 1, Decision: eligibleNow()})
		if st := testserver.WantCode(t, err, codes.NotFound); st.Message() != "case not found" {
			t.Errorf("%s: message %q", name, st.Message())
		}
	}
	// Another mission's caseworker cannot tell the return exists.
	_, err = b.client.GetReturn(b.other, &returnsv1.GetReturnRequest{CaseId: r.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.RecordEligibility(b.other, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: 1, Decision: eligibleNow()})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.ListReturns(b.worker, &returnsv1.ListReturnsRequest{Mission: "NER"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	list, err := b.client.ListReturns(b.other, &returnsv1.ListReturnsRequest{})
	if err != nil || len(list.GetReturns()) != 0 {
		t.Errorf("NER lists %v, %v; want nothing", list.GetReturns(), err)
	}

	// Roles outside the field get nothing; a caseworker cannot reopen.
	for _, role := range []auth.Role{auth.RoleAnalyst, auth.RoleProgrammeManager, auth.RolePartner, auth.RoleAdmin} {
		mission := "DEU"
		if role.IsHQ() {
			mission = auth.MissionHQ
		}
		_, err := b.client.GetReturn(b.env.As(t, role, mission), &returnsv1.GetReturnRequest{CaseId: r.GetCaseId()})
		testserver.WantCode(t, err, codes.PermissionDenied)
	}
	closed := b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_CLOSED)
	_, err = b.client.ReopenReturn(b.worker, &returnsv1.ReopenReturnRequest{RequestId: uuid.NewString(), CaseId: closed.GetCaseId(),
		Version: closed.GetVersion(), Reason: returnsv1.ReopenReason_REOPEN_REASON_CLOSED_IN_ERROR})
	testserver.WantCode(t, err, codes.PermissionDenied)
	before["returns.\"return\""]++ // the walk to CLOSED registered a case and closed its return
	before["returns.status_change"]++
	before["returns.idempotency"]++
	before["outbox.event"] += 2 // CaseRegistered and ReturnClosed
	before["sum of versions"] += 2
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused calls changed the database (-before +after):\n%s", diff)
	}
}

// TestFollowsIntake proves the projection follows intake's updates and closures.
func TestFollowsIntake(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.register(t, registration(karim()))
	c, err := b.intake.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: 1,
		UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"vulnerabilities"}},
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}})
	if err != nil {
		t.Fatal(err)
	}
	got := b.await(t, r.GetCaseId(), func(r *returnsv1.Return) bool { return len(r.GetVulnerabilities()) == 1 })
	if diff := cmp.Diff([]returnsv1.Requirement{returnsv1.Requirement_REQUIREMENT_RISK_ASSESSMENT}, got.GetUnmetRequirements()); diff != "" {
		t.Errorf("requirements after the update (-want +got):\n%s", diff)
	}

	if _, err := b.intake.CloseCase(b.worker, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
		Version: c.GetCase().GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var status string
		b.admin(t, func(conn *pgx.Conn) {
			if err := conn.QueryRow(context.Background(), `SELECT intake_status FROM returns."case" WHERE case_id = $1`, r.GetCaseId()).Scan(&status); err != nil {
				t.Fatal(err)
			}
		})
		if status == "CLOSED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the projection did not learn of the closure in time")
		}
	}
	_, err = b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
		Version: got.GetVersion(), Decision: eligibleNow()})
	if got := reason(testserver.WantCode(t, err, codes.FailedPrecondition)); got != "CASE_CLOSED" {
		t.Errorf("reason %q, want CASE_CLOSED", got)
	}
	if closed := b.close(t, got, returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY); closed.GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_CLOSED {
		t.Errorf("status %v", closed.GetStatus())
	}
}

func TestListReturns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for range 3 {
		ids = append(ids, b.register(t, registration(karim())).GetCaseId())
	}
	first, _ := b.client.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: ids[0]})
	b.eligible(t, first.GetReturn())

	page, err := b.client.ListReturns(b.worker, &returnsv1.ListReturnsRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	next, err := b.client.ListReturns(b.worker, &returnsv1.ListReturnsRequest{PageSize: 2, PageToken: page.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range append(page.GetReturns(), next.GetReturns()...) {
		got = append(got, r.GetCaseId())
		if len(r.GetEligibilityDecisions()) != 0 || r.GetHostCountry() != "DEU" {
			t.Errorf("a listed return: %v", r)
		}
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("newest first over two pages (-want +got):\n%s", diff)
	}
	if next.GetNextPageToken() != "" {
		t.Errorf("the last page has a next page token")
	}

	eligible, err := b.client.ListReturns(b.worker, &returnsv1.ListReturnsRequest{Status: returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE})
	if err != nil || len(eligible.GetReturns()) != 1 || eligible.GetReturns()[0].GetCaseId() != ids[0] {
		t.Errorf("eligible returns: %v, %v", eligible.GetReturns(), err)
	}
	_, err = b.client.ListReturns(b.worker, &returnsv1.ListReturnsRequest{Status: returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE, PageToken: page.GetNextPageToken()})
	if diff := cmp.Diff([]string{"page_token"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("a token of other filters (-want +got):\n%s", diff)
	}
}

// TestRoleGrants proves the grant model: returns reaches its own schema and the outbox, no
// other schema, and never rewrites a recorded fact; intake cannot reach returns.
func TestRoleGrants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.walk(t, returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION)
	ctx := context.Background()
	returnsPool := b.env.Pool(t, "passage_returns")
	intakePool := b.env.Pool(t, "passage_intake")
	for _, tt := range []struct {
		who     string
		q       database.Querier
		sql     string
		allowed bool
	}{
		{"returns reads its returns", returnsPool, `SELECT count(*) FROM returns."return"`, true},
		{"returns reads events", returnsPool, `SELECT count(*) FROM outbox.event`, true},
		{"returns reads the vault", returnsPool, `SELECT count(*) FROM vault.identity`, false},
		{"returns reads blind indexes", returnsPool, `SELECT count(*) FROM vault.blind_index`, false},
		{"returns reads intake's cases", returnsPool, `SELECT count(*) FROM intake."case"`, false},
		{"returns reads intake's members", returnsPool, `SELECT count(*) FROM intake.case_member`, false},
		{"returns reads hasm", returnsPool, `SELECT count(*) FROM hasm.request`, false},
		{"returns rewrites a decision", returnsPool, `UPDATE returns.eligibility_decision SET eligibility = 'ELIGIBLE'`, false},
		{"returns rewrites a departure", returnsPool, `UPDATE returns.departure SET return_country = 'SYR'`, false},
		{"returns deletes assistance", returnsPool, `DELETE FROM returns.assistance`, false},
		{"returns deletes returns", returnsPool, `DELETE FROM returns."return"`, false},
		{"returns deletes events", returnsPool, `DELETE FROM outbox.event`, false},
		{"returns rewrites idempotency records", returnsPool, `UPDATE returns.idempotency SET response = ''`, false},
		{"returns creates tables", returnsPool, `CREATE TABLE returns.extra (x int)`, false},
		{"intake reads returns", intakePool, `SELECT count(*) FROM returns."return"`, false},
		{"intake reads return facts", intakePool, `SELECT count(*) FROM returns.departure`, false},
	} {
		_, err := tt.q.Exec(ctx, tt.sql)
		var pgErr *pgconn.PgError
		refused := errors.As(err, &pgErr) && pgErr.Code == "42501" // insufficient_privilege
		switch {
		case tt.allowed && err != nil:
			t.Errorf("%s: refused: %v", tt.who, err)
		case !tt.allowed && !refused:
			t.Errorf("%s: got %v, want insufficient_privilege", tt.who, err)
		}
	}
}
