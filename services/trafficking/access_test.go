package trafficking_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/trafficking"
)

func TestMissionIsolationAndRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newVictim(t, presumed)
	before := b.stored(t)

	// Another mission's caseworker cannot tell the case exists, for reads and writes alike.
	_, err := b.vot.GetVictimCase(b.other, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	for _, f := range append(facts, screening(identified), closing(traffickingv1.ClosureReason_CLOSURE_REASON_OTHER)) {
		_, err := f.call(b, b.other, c)
		testserver.WantCode(t, err, codes.NotFound)
	}
	list, err := b.vot.ListVictimCases(b.other, &traffickingv1.ListVictimCasesRequest{})
	if err != nil || len(list.GetVictimCases()) != 0 {
		t.Errorf("another mission lists %d victim cases (%v), want 0", len(list.GetVictimCases()), err)
	}
	_, err = b.vot.ListVictimCases(b.other, &traffickingv1.ListVictimCasesRequest{Mission: "THA"})
	testserver.WantCode(t, err, codes.PermissionDenied)

	// No HQ role, and no partner, reads a victim case, even with the case's mission.
	for _, caller := range []struct {
		role    auth.Role
		mission string
	}{
		{auth.RoleProgrammeManager, auth.MissionHQ}, {auth.RoleAnalyst, auth.MissionHQ}, {auth.RoleAdmin, auth.MissionHQ},
		{auth.RoleProgrammeManager, "THA"}, {auth.RoleAnalyst, "THA"}, {auth.RoleAdmin, "THA"}, {auth.RolePartner, "THA"},
	} {
		{
			ctx := b.env.As(t, caller.role, caller.mission)
			_, err := b.vot.GetVictimCase(ctx, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
			testserver.WantCode(t, err, codes.PermissionDenied)
			_, err = b.vot.ListVictimCases(ctx, &traffickingv1.ListVictimCasesRequest{})
			testserver.WantCode(t, err, codes.PermissionDenied)
			_, err = facts[1].call(b, ctx, c)
			testserver.WantCode(t, err, codes.PermissionDenied)
		}
	}
	_, err = b.vot.GetVictimCase(context.Background(), &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.Unauthenticated)

	// Unknown cases and cases of other programmes are not found.
	avrr := registration(thida())
	avrr.Programme = commonv1.Programme_PROGRAMME_AVRR
	other := b.register(t, avrr)
	for _, id := range []string{uuid.NewString(), other.GetCaseId()} {
		_, err := b.vot.GetVictimCase(b.worker, &traffickingv1.GetVictimCaseRequest{CaseId: id})
		testserver.WantCode(t, err, codes.NotFound)
		_, err = facts[0].call(b, b.worker, &traffickingv1.VictimCase{CaseId: id, Version: 1})
		testserver.WantCode(t, err, codes.NotFound)
	}
	after := b.stored(t)
	delete(after, "outbox.event") // the AVRR registration wrote intake's event
	delete(before, "outbox.event")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("refused calls changed the database (-before +after):\n%s", diff)
	}

	// A supervisor of the mission works on the case.
	if _, err := facts[3].call(b, b.env.As(t, auth.RoleSupervisor, "THA"), c); err != nil {
		t.Errorf("supervisor AssessRisk: %v", err)
	}
}

func TestListVictimCases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string // newest first
	for i := range 5 {
		s := unscreened
		if i%2 == 0 {
			s = presumed
		}
		ids = append([]string{b.newVictim(t, s).GetCaseId()}, ids...)
	}
	var got []string
	req := &traffickingv1.ListVictimCasesRequest{PageSize: 2}
	for pages := 0; ; pages++ {
		resp, err := b.vot.ListVictimCases(b.worker, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.GetVictimCases() {
			got = append(got, c.GetCaseId())
		}
		if resp.GetNextPageToken() == "" || pages > 5 {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	resp, err := b.vot.ListVictimCases(b.worker, &traffickingv1.ListVictimCasesRequest{
		Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_PRESUMED_VICTIM})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, c := range resp.GetVictimCases() {
		got = append(got, c.GetCaseId())
	}
	if diff := cmp.Diff([]string{ids[0], ids[2], ids[4]}, got); diff != "" {
		t.Errorf("presumed victims (-want +got):\n%s", diff)
	}

	// A page token is for the filters it was issued with.
	first, err := b.vot.ListVictimCases(b.worker, &traffickingv1.ListVictimCasesRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.vot.ListVictimCases(b.worker, &traffickingv1.ListVictimCasesRequest{PageSize: 1, PageToken: first.GetNextPageToken(),
		Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED})
	if diff := cmp.Diff([]string{"page_token"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

// TestProjectionCatchesUpOnMiss runs without the background consumer: the service learns of
// cases only by draining intake's events when a case is missing, and follows intake's updates.
func TestProjectionCatchesUpOnMiss(t *testing.T) {
	t.Parallel()
	b := setupWith(t, false, trafficking.WithOnePartition())
	avrr := registration(thida())
	avrr.Programme = commonv1.Programme_PROGRAMME_AVRR
	avrrResp, err := b.intake.RegisterCase(b.worker, avrr)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := b.intake.RegisterCase(b.worker, registration(thida(), &commonv1.Person{GivenName: "Aye", DateOfBirth: day(2020, 1, 1)}))
	if err != nil {
		t.Fatal(err)
	}
	vot := reg.GetCase()
	c := b.await(t, vot.GetCaseId(), func(*traffickingv1.VictimCase) bool { return true })
	if diff := cmp.Diff(vot.GetHouseholdMembers(), c.GetHouseholdMembers(), protocmp.Transform(), intakeConsentFlags); diff != "" {
		t.Errorf("household members (-intake +victim case):\n%s", diff)
	}
	// The AVRR case registered before it was passed over.
	_, err = b.vot.GetVictimCase(b.worker, &traffickingv1.GetVictimCaseRequest{CaseId: avrrResp.GetCase().GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	if n := b.env.Count(t, "trafficking.victim_case"); n != 1 {
		t.Errorf("%d victim cases, want 1", n)
	}

	// Intake's updates reach the record without moving its version.
	if _, err := b.intake.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: vot.GetCaseId(),
		Version: 1, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"host_country"}}, HostCountry: "MYS"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.intake.CloseCase(b.worker, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: vot.GetCaseId(),
		Version: 2, Reason: intakev1.ClosureReason_CLOSURE_REASON_TRANSFERRED}); err != nil {
		t.Fatal(err)
	}
	// Without background work only a miss drains: registering another case and reading it
	// catches up on the updates too, as they committed before it in the consumer's one
	// partition (with sixteen, only the missed case's partition is drained, and Run applies
	// the others').
	b.register(t, registration(thida()))
	got := b.await(t, vot.GetCaseId(), func(v *traffickingv1.VictimCase) bool {
		return v.GetIntakeStatus() == intakev1.CaseStatus_CASE_STATUS_CLOSED
	})
	if got.GetHostCountry() != "MYS" || got.GetVersion() != 1 || got.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_AWAITING_SCREENING {
		t.Errorf("after intake's updates: host %s, v%d, %v", got.GetHostCountry(), got.GetVersion(), got.GetStatus())
	}
}

// TestRoleGrants proves the grant model: the trafficking role reaches its own schema and the
// outbox only, and no other service's role reaches its schema.
func TestRoleGrants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.newVictim(t, presumed)
	ctx := context.Background()

	own := b.env.Pool(t, trafficking.Role)
	for _, tt := range []struct {
		who     string
		q       database.Querier
		sql     string
		allowed bool
	}{
		{"trafficking reads its cases", own, `SELECT count(*) FROM trafficking.victim_case`, true},
		{"trafficking reads events", own, `SELECT count(*) FROM outbox.event`, true},
		{"trafficking deletes cases", own, `DELETE FROM trafficking.victim_case`, false},
		{"trafficking deletes assistance", own, `DELETE FROM trafficking.assistance`, false},
		{"trafficking deletes events", own, `DELETE FROM outbox.event`, false},
		{"trafficking rewrites idempotency records", own, `UPDATE trafficking.idempotency SET response = ''`, false},
		{"trafficking creates tables", own, `CREATE TABLE trafficking.extra (x int)`, false},
	} {
		checkGrant(t, ctx, tt.who, tt.q, tt.sql, tt.allowed)
	}

	// Every table outside its schema and the outbox is out of reach: the vault, intake, and
	// whatever other services' schemas exist.
	tables := b.env.Tables(t, "trafficking", "outbox")
	joined := strings.Join(tables, " ")
	if !strings.Contains(joined, `"vault"."identity"`) || !strings.Contains(joined, `"intake"."case"`) {
		t.Fatalf("the vault and intake tables are missing from %v", tables)
	}
	for _, table := range tables {
		if table == `"public"."schema_migrations"` {
			continue
		}
		if table == `"intake"."staff_member"` {
			// The staff directory: every service role reads its ids, codes and states, to
			// admit or refuse each call (internal/staffdir); never a name (a column grant).
			checkGrant(t, ctx, "trafficking reads staff names", own, "SELECT display_name FROM "+table, false)
			continue
		}
		checkGrant(t, ctx, "trafficking reads "+table, own, "SELECT count(*) FROM "+table, false)
	}

	// Nor do intake's and analytics' roles reach the trafficking schema.
	for _, role := range []string{intake.Role, "passage_analytics"} {
		pool := b.env.Pool(t, role)
		for _, table := range []string{"trafficking.victim_case", "trafficking.assistance", "trafficking.idempotency"} {
			checkGrant(t, ctx, role+" reads "+table, pool, "SELECT count(*) FROM "+table, false)
		}
	}
}

func checkGrant(t *testing.T, ctx context.Context, who string, q database.Querier, sql string, allowed bool) {
	t.Helper()
	_, err := q.Exec(ctx, sql)
	var pgErr *pgconn.PgError
	refused := errors.As(err, &pgErr) && pgErr.Code == "42501" // insufficient_privilege
	switch {
	case allowed && err != nil:
		t.Errorf("%s: refused: %v", who, err)
	case !allowed && !refused:
		t.Errorf("%s: got %v, want insufficient_privilege", who, err)
	}
}
