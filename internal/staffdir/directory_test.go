package staffdir

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// fixture is one test database and pools as intake's and follow-up's roles, as two service
// processes would hold them.
type fixture struct {
	intake, followup *pgxpool.Pool
}

func setup(t testing.TB) fixture {
	t.Helper()
	admin := pgtest.New(t)
	pool := func(role string) *pgxpool.Pool {
		p, err := database.Open(context.Background(), database.PoolConfig{AdminURL: admin, Role: role})
		if err != nil {
			t.Fatalf("pool as %s: %v", role, err)
		}
		t.Cleanup(p.Close)
		return p
	}
	return fixture{intake: pool("passage_intake"), followup: pool("passage_followup")}
}

// process opens a directory over pool and runs it until the test ends; applied receives each
// change it applies from a notification.
func process(t testing.TB, pool *pgxpool.Pool, mode Mode) (*Directory, <-chan Member) {
	t.Helper()
	return processWith(t, pool, Config{Mode: mode})
}

// processWith is process with cfg.
func processWith(t testing.TB, pool *pgxpool.Pool, cfg Config) (*Directory, <-chan Member) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := Open(ctx, pool, cfg)
	if err != nil {
		cancel()
		t.Fatalf("open: %v", err)
	}
	applied := make(chan Member, 64)
	d.applied = func(m Member) { applied <- m }
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return d, applied
}

// waitFor returns the first change of staffID applied with the given state, failing the test
// when the notifications stop first (the test's deadline).
func waitFor(t *testing.T, applied <-chan Member, staffID string, active bool) Member {
	t.Helper()
	for m := range applied {
		if m.StaffID == staffID && m.Active == active {
			return m
		}
	}
	t.Fatal("notifications ended")
	return Member{}
}

func reason(err error) (codes.Code, string) {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason()
		}
	}
	return st.Code(), ""
}

var caseworker = auth.Claims{Subject: "cw-leaver", Role: auth.RoleCaseworker, Mission: "NER"}

// deactivate is what an administrator's deactivation writes, as intake's role.
func deactivate(t *testing.T, pool *pgxpool.Pool, staffID string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `UPDATE intake.staff_member
SET active = false, deactivated_at = now(), version = version + 1, updated_at = now() WHERE staff_id = $1`, staffID); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
}

// TestLeaverRefusedEverywhere: a caseworker signs in at follow-up's process (added from the
// token's claims by follow-up's role), is admitted by intake's too, and once an administrator
// deactivates them, each process refuses their next call as soon as the change's notification
// has reached it, PERMISSION_DENIED with reason STAFF_INACTIVE; a token of theirs cannot add
// them back.
func TestLeaverRefusedEverywhere(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	intake, intakeApplied := process(t, f.intake, ModeClaims)
	followup, followupApplied := process(t, f.followup, ModeClaims)

	if err := followup.Admit(ctx, caseworker); err != nil {
		t.Fatalf("first call: %v", err)
	}
	waitFor(t, intakeApplied, caseworker.Subject, true)
	if m, ok := intake.Lookup(caseworker.Subject); !ok || !m.Active || m.ProvisionedBy != ProvisionedByClaims || m.Mission != "NER" {
		t.Fatalf("intake's copy after the sign-in: %+v, %v", m, ok)
	}
	if err := intake.Admit(ctx, caseworker); err != nil {
		t.Fatalf("call to intake: %v", err)
	}

	deactivate(t, f.intake, caseworker.Subject)
	waitFor(t, followupApplied, caseworker.Subject, false)
	waitFor(t, intakeApplied, caseworker.Subject, false)
	for name, d := range map[string]*Directory{"intake": intake, "followup": followup} {
		code, why := reason(d.Admit(ctx, caseworker))
		if code != codes.PermissionDenied || why != ReasonInactive {
			t.Errorf("%s: a leaver's call: %v %q", name, code, why)
		}
		// Nor does a token that moved elsewhere get them back in.
		moved := caseworker
		moved.Mission = "MAR"
		if code, why := reason(d.Admit(ctx, moved)); code != codes.PermissionDenied || why != ReasonInactive {
			t.Errorf("%s: a leaver's token of another mission: %v %q", name, code, why)
		}
	}
	// A process that starts now reads them inactive.
	late, _ := process(t, f.followup, ModeClaims)
	if code, _ := reason(late.Admit(ctx, caseworker)); code != codes.PermissionDenied {
		t.Errorf("a process started after the deactivation: %v", code)
	}
}

// TestClaimsAndManaged: in claims mode a claims-provisioned member's token that moved is
// followed (a new version, announced), an administrator's entry is not; in managed mode
// unknown staff are refused and nothing is added. Partners are not staff.
func TestClaimsAndManaged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	claims, _ := process(t, f.followup, ModeClaims)
	managed, managedApplied := process(t, f.intake, ModeManaged)

	if code, why := reason(managed.Admit(ctx, caseworker)); code != codes.PermissionDenied || why != ReasonUnknown {
		t.Errorf("managed, unknown: %v %q", code, why)
	}
	if _, ok := managed.Lookup(caseworker.Subject); ok {
		t.Error("managed mode added a member")
	}
	if err := claims.Admit(ctx, caseworker); err != nil {
		t.Fatal(err)
	}
	moved := caseworker
	moved.Mission, moved.Role = "MAR", auth.RoleSupervisor
	if err := claims.Admit(ctx, moved); err != nil {
		t.Fatalf("claims mode, a moved token: %v", err)
	}
	if m, _ := claims.Lookup(caseworker.Subject); m.Mission != "MAR" || m.Role != "supervisor" || m.Version != 2 {
		t.Errorf("followed: %+v", m)
	}
	for m := range managedApplied {
		if m.StaffID == caseworker.Subject && m.Version == 2 {
			break
		}
	}
	// Managed mode admits the member as the directory has them, and no other token of theirs.
	if err := managed.Admit(ctx, moved); err != nil {
		t.Errorf("managed, as the directory has them: %v", err)
	}
	if code, why := reason(managed.Admit(ctx, caseworker)); code != codes.PermissionDenied || why != ReasonMismatch {
		t.Errorf("managed, another mission: %v %q", code, why)
	}

	// An administrator's entry is the directory's word, even in claims mode.
	if _, err := f.intake.Exec(ctx, `INSERT INTO intake.staff_member (staff_id, member_id, mission, role, active, provisioned_by, version, created_at, updated_at)
VALUES ('sup-admin-made', gen_random_uuid(), 'NER', 'supervisor', true, 'admin', 1, now(), now())`); err != nil {
		t.Fatal(err)
	}
	other := auth.Claims{Subject: "sup-admin-made", Role: auth.RoleSupervisor, Mission: "MLI"}
	if code, why := reason(claims.Admit(ctx, other)); code != codes.PermissionDenied || why != ReasonMismatch {
		t.Errorf("claims mode, an administrator's entry of another mission: %v %q", code, why)
	}
	other.Mission = "NER"
	if err := claims.Admit(ctx, other); err != nil {
		t.Errorf("claims mode, an administrator's entry as it is: %v", err)
	}
	if err := managed.Admit(ctx, auth.Claims{Subject: "partner-x", Role: auth.RolePartner, Partner: "8d0f5a1e-1111-4222-8333-944455556666"}); err != nil {
		t.Errorf("a partner: %v", err)
	}
}

// TestRowSecurityOfTheDirectory: a service role other than intake's adds only what a token
// says (active, from claims, unnamed), never deactivates nor reactivates anyone, never moves
// an administrator's entry, and never reads a name.
func TestRowSecurityOfTheDirectory(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.intake.Exec(ctx, `INSERT INTO intake.staff_member (staff_id, member_id, mission, role, active, provisioned_by, display_name, version, created_at, updated_at)
VALUES ('named', gen_random_uuid(), 'NER', 'caseworker', true, 'admin', 'A Name', 1, now(), now())`); err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		"add inactive": `INSERT INTO intake.staff_member (staff_id, member_id, mission, role, active, provisioned_by, version, created_at, updated_at, deactivated_at)
VALUES ('x', gen_random_uuid(), 'NER', 'caseworker', false, 'claims', 1, now(), now(), now())`,
		"add as admin": `INSERT INTO intake.staff_member (staff_id, member_id, mission, role, active, provisioned_by, version, created_at, updated_at)
VALUES ('y', gen_random_uuid(), 'NER', 'admin', true, 'admin', 1, now(), now())`,
		"deactivate":  `UPDATE intake.staff_member SET active = false, deactivated_at = now() WHERE staff_id = 'named'`,
		"read a name": `SELECT display_name FROM intake.staff_member`,
	}
	for name, sql := range refused {
		_, err := f.followup.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "42000") {
			t.Errorf("%s as follow-up's role: %v", name, err)
		}
	}
	tag, err := f.followup.Exec(ctx, `UPDATE intake.staff_member SET mission = 'MAR', version = version + 1 WHERE staff_id = 'named'`)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("moving an administrator's entry as follow-up's role: %v, %d rows", err, tag.RowsAffected())
	}
}

// BenchmarkAdmit is what the directory adds to every call of a known, active member: a
// look-up in the process's copy.
func BenchmarkAdmit(b *testing.B) {
	f := setup(b)
	d, _ := process(b, f.intake, ModeClaims)
	ctx := context.Background()
	if err := d.Admit(ctx, caseworker); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := d.Admit(ctx, caseworker); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDeactivationReach is how long a deactivation takes from its commit to another
// process's copy: the notification's trip.
func BenchmarkDeactivationReach(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	other, applied := process(b, f.followup, ModeClaims)
	if err := other.Admit(ctx, caseworker); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var total time.Duration
	for i := range b.N {
		active := i%2 == 1
		start := time.Now()
		if _, err := f.intake.Exec(ctx, `UPDATE intake.staff_member SET active = $2,
  deactivated_at = CASE WHEN $2 THEN NULL ELSE now() END, version = version + 1 WHERE staff_id = $1`, caseworker.Subject, active); err != nil {
			b.Fatal(err)
		}
		for m := range applied {
			if m.Active == active {
				break
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/commit+reach")
}

// TestReloadEveryInterval: the safety net reads the whole directory once every
// Config.Reload, not again and again once the first interval has passed.
func TestReloadEveryInterval(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const reload = 100 * time.Millisecond
	d, _ := processWith(t, f.followup, Config{Reload: reload})
	// Nothing changes in the directory: each wake-up of Await's channel is a reload.
	const watch = time.Second
	reloads := 0
	end := time.After(watch)
	for {
		d.mu.RLock()
		changed := d.changed
		d.mu.RUnlock()
		select {
		case <-changed:
			reloads++
			continue
		case <-end:
		}
		break
	}
	if most := int(watch/reload) + 2; reloads > most {
		t.Errorf("%d reloads in %v with Reload %v; want at most %d", reloads, watch, reload, most)
	}
}

// TestFirstCallsAtOnce: processes that admit a new staff member's first calls at the same
// moment add them once, and every call is admitted: the insert that loses the race finds the
// entry the other wrote, whichever of its unique keys (staff id, member id) meets it first.
func TestFirstCallsAtOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	var dirs []*Directory
	for _, pool := range []*pgxpool.Pool{f.intake, f.followup, f.intake, f.followup} {
		d, _ := process(t, pool, ModeClaims)
		dirs = append(dirs, d)
	}
	const subjects = 40
	for i := range subjects {
		c := auth.Claims{Subject: fmt.Sprintf("cw-at-once-%d", i), Role: auth.RoleCaseworker, Mission: "NER"}
		start := make(chan struct{})
		errs := make(chan error, len(dirs))
		for _, d := range dirs {
			go func() {
				<-start
				errs <- d.Admit(ctx, c)
			}()
		}
		close(start)
		for range dirs {
			if err := <-errs; err != nil {
				t.Fatalf("%s's first call, from %d processes at once: %v", c.Subject, len(dirs), err)
			}
		}
	}
	var n int
	if err := f.intake.QueryRow(ctx, `SELECT count(*) FROM intake.staff_member WHERE staff_id LIKE 'cw-at-once-%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != subjects {
		t.Errorf("%d entries, want %d", n, subjects)
	}
}
