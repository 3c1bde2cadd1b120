package intake_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
)

// pgBin holds pg_dump and pg_restore of the server's major version.
const pgBin = "/usr/lib/postgresql/15/bin"

// TestErasure erases a person and proves that their identity is gone everywhere: (a) from
// the API, (b) from a direct read of the database as its owner, (c) from a dump taken before
// the erasure, once the KEK was rotated, the data keys re-wrapped and the old KEK key
// retired (while the same dump could still be opened before the retirement); and (d) that
// no anonymised fact was lost: case rows, members, events and the returns projection keep
// their counts.
func TestErasure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec(), returns.Spec()}})
	client := intakev1.NewIntakeServiceClient(env.Conn)
	worker := env.As(t, auth.RoleCaseworker, "NER")
	supervisor := env.As(t, auth.RoleSupervisor, "NER")
	owner := ownerPool(t, env.AdminURL)

	erased, err := client.RegisterCase(worker, registration(amina(), child("Tunde", 2019)))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := client.RegisterCase(worker, registration(child("Ngozi", 1990)))
	if err != nil {
		t.Fatal(err)
	}
	caseID, subject := erased.GetCase().GetCaseId(), uuid.MustParse(erased.GetCase().GetSubjectId())
	waitFor(t, func() bool { return env.Count(t, "returns.case") == 2 })

	// The backup an attacker might later get hold of, taken before the erasure.
	dump := filepath.Join(t.TempDir(), "before.dump")
	run(t, filepath.Join(pgBin, "pg_dump"), "-Fc", "-f", dump, "-d", env.AdminURL)

	facts := func() map[string]int {
		counts := env.RowCounts(t, `intake."case"`, "intake.case_member", "intake.consent", "returns.case", "returns.case_member")
		counts["registered events"] = env.QueryInt(t, `SELECT count(*) FROM outbox.event WHERE event_type = 'passage.intake.v1.CaseRegistered'`)
		return counts
	}
	before := facts()

	// Only a supervisor erases; a caseworker is refused and nothing is written.
	stored := env.RowCounts(t, "vault.identity", "vault.blind_index", "outbox.event")
	req := &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: caseID,
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}
	_, err = client.ErasePerson(worker, req)
	testserver.WantCode(t, err, codes.PermissionDenied)
	if got := env.RowCounts(t, "vault.identity", "vault.blind_index", "outbox.event"); !equalCounts(got, stored) {
		t.Fatalf("a refused erasure wrote: %v, was %v", got, stored)
	}

	resp, err := client.ErasePerson(supervisor, req)
	if err != nil {
		t.Fatalf("ErasePerson: %v", err)
	}
	if e := resp.GetErasure(); e.GetSubjectId() != subject.String() || e.GetReason() != req.GetReason() || e.GetEraseTime() == nil {
		t.Fatalf("erasure = %v", e)
	}
	// A retry returns the first result.
	again, err := client.ErasePerson(supervisor, req)
	if err != nil || !proto.Equal(again, resp) {
		t.Fatalf("retried ErasePerson = %v, %v; want %v", again, err, resp)
	}

	// (a) The API returns the case, with a coded marker instead of the identity.
	got, err := client.GetCase(worker, &intakev1.GetCaseRequest{CaseId: caseID, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		t.Fatalf("GetCase FULL after erasure: %v", err)
	}
	principal := got.GetIdentity().GetPrincipal()
	if principal.GetPerson() != nil || principal.GetErasure().GetReason() != intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST {
		t.Fatalf("principal after erasure = %v", principal)
	}
	if m := got.GetIdentity().GetHouseholdMembers(); len(m) != 1 || m[0].GetPerson().GetGivenName() != "Tunde" {
		t.Fatalf("the household member was touched: %v", m)
	}
	if got.GetCase().GetPrincipal().GetAgeBand() != erased.GetCase().GetPrincipal().GetAgeBand() {
		t.Fatal("the case's coded attributes changed")
	}
	// ... and the duplicate search no longer finds her.
	dup, err := client.RegisterCase(worker, registration(amina()))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dup.GetSuspectedDuplicates() {
		if d.GetCaseId() == caseID {
			t.Fatalf("the erased person is still found as a duplicate: %v", d)
		}
	}

	// (b) The owner finds no wrapped key, ciphertext or blind index for her.
	if n := env.QueryInt(t, `SELECT count(*) FROM vault.identity WHERE subject_id = $1`, subject); n != 0 {
		t.Fatalf("vault.identity still has %d rows for the erased person", n)
	}
	if n := env.QueryInt(t, `SELECT count(*) FROM vault.blind_index WHERE subject_id = $1`, subject); n != 0 {
		t.Fatalf("vault.blind_index still has %d rows for the erased person", n)
	}
	if n := env.QueryInt(t, `SELECT count(*) FROM vault.erasure WHERE subject_id = $1 AND reason = 'DATA_SUBJECT_REQUEST'`, subject); n != 1 {
		t.Fatalf("erasure records = %d, want 1", n)
	}

	// (d) Every anonymised fact is still there (the new registration above aside).
	after := facts()
	after[`intake."case"`]--
	after["intake.case_member"]--
	after["intake.consent"]--
	after["registered events"]--
	waitFor(t, func() bool { return env.Count(t, "returns.case") == before["returns.case"]+1 })
	after["returns.case"], after["returns.case_member"] = env.Count(t, "returns.case")-1, env.Count(t, "returns.case_member")-1
	if !equalCounts(after, before) {
		t.Fatalf("anonymised facts changed: %v, were %v", after, before)
	}

	// (c) The dump from before still holds her wrapped key. Restored, it opens with today's
	// keyring: a backup is not erased by deleting live rows...
	restored := pgtest.Empty(t)
	run(t, filepath.Join(pgBin, "pg_restore"), "--no-owner", "-d", restored, dump)
	restoredPool := ownerPool(t, restored)
	sealed := readSealed(t, restoredPool, subject)
	if p, err := env.Keys.Open(subject, sealed); err != nil || p.GetGivenName() != "Amina" {
		t.Fatalf("before retirement the old dump should still open: %v, %v", p.GetGivenName(), err)
	}

	// ... until the KEK is rotated, every live data key re-wrapped, and the old key retired.
	oldKey := env.Keys.KEKPrimary()
	h, err := env.KeyFiles.KEK.Read()
	if err != nil {
		t.Fatal(err)
	}
	rotated, newKey, err := vault.RotateKEK(h)
	if err != nil {
		t.Fatal(err)
	}
	writeAndReload(t, env, rotated)
	if _, err := vault.Rewrap(ctx, owner, env.Keys, 2, nil); err != nil {
		t.Fatalf("rewrap: %v", err)
	}
	if n, err := vault.CountWrappedBy(ctx, owner, oldKey); err != nil || n != 0 {
		t.Fatalf("rows still on the old key: %d, %v", n, err)
	}
	if n := env.QueryInt(t, `SELECT count(*) FROM vault.identity WHERE kek_key_id <> $1`, int64(newKey)); n != 0 {
		t.Fatalf("%d rows not on the new primary key", n)
	}
	retired, err := vault.RetireKEK(rotated, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	writeAndReload(t, env, retired)

	if _, err := env.Keys.Open(subject, sealed); !errors.Is(err, vault.ErrUndecryptable) {
		t.Fatalf("after retirement the old dump still opens: %v", err)
	}
	// Every live person still opens, through the API.
	for _, id := range []string{caseID, kept.GetCase().GetCaseId(), dup.GetCase().GetCaseId()} {
		got, err := client.GetCase(worker, &intakev1.GetCaseRequest{CaseId: id, View: intakev1.CaseView_CASE_VIEW_FULL,
			Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
		if err != nil {
			t.Fatalf("GetCase FULL after retirement: %v", err)
		}
		for _, m := range append([]*intakev1.PersonIdentity{got.GetIdentity().GetPrincipal()}, got.GetIdentity().GetHouseholdMembers()...) {
			if m.GetPerson() == nil && m.GetErasure() == nil {
				t.Fatalf("case %s: a person is neither readable nor erased", id)
			}
		}
	}
	// The restored dump's people who were not erased are unreadable too: a backup older than
	// the retirement has lost every identity, which is why docs/operators.md asks for a fresh
	// backup after each rewrap.
	if _, err := env.Keys.Open(uuid.MustParse(kept.GetCase().GetSubjectId()), readSealed(t, restoredPool, uuid.MustParse(kept.GetCase().GetSubjectId()))); !errors.Is(err, vault.ErrUndecryptable) {
		t.Fatalf("a pre-retirement backup of a live person still opens: %v", err)
	}
}

func TestErasePersonRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reg := b.register(t, registration(amina(), child("Tunde", 2019)))
	supervisor := b.env.As(t, auth.RoleSupervisor, "NER")
	caseID := reg.GetCase().GetCaseId()
	for _, tt := range []struct {
		name  string
		ctx   context.Context
		req   *intakev1.ErasePersonRequest
		code  codes.Code
		field string
	}{
		{"retention reason", supervisor, &intakev1.ErasePersonRequest{CaseId: caseID, Reason: intakev1.ErasureReason_ERASURE_REASON_RETENTION_EXPIRED}, codes.InvalidArgument, "reason"},
		{"no reason", supervisor, &intakev1.ErasePersonRequest{CaseId: caseID}, codes.InvalidArgument, "reason"},
		{"not a person of the case", supervisor, &intakev1.ErasePersonRequest{CaseId: caseID, SubjectId: uuid.NewString(), Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}, codes.InvalidArgument, "subject_id"},
		{"malformed subject", supervisor, &intakev1.ErasePersonRequest{CaseId: caseID, SubjectId: "x", Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}, codes.InvalidArgument, "subject_id"},
		{"another mission's case", b.env.As(t, auth.RoleSupervisor, "DEU"), &intakev1.ErasePersonRequest{CaseId: caseID, Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}, codes.NotFound, ""},
		{"an analyst", b.env.As(t, auth.RoleAnalyst, auth.MissionHQ), &intakev1.ErasePersonRequest{CaseId: caseID, Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}, codes.PermissionDenied, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := b.stored(t)
			tt.req.RequestId = uuid.NewString()
			_, err := b.client.ErasePerson(tt.ctx, tt.req)
			st := testserver.WantCode(t, err, tt.code)
			if tt.field != "" && !slices.Contains(testserver.FieldViolations(st), tt.field) {
				t.Errorf("%v does not name %s", err, tt.field)
			}
			if after := b.stored(t); !equalCounts(after, before) {
				t.Errorf("a refused erasure wrote: %v, was %v", after, before)
			}
		})
	}

	// A household member can be erased alone; erasing them again returns the first erasure.
	member := reg.GetCase().GetHouseholdMembers()[0].GetSubjectId()
	first, err := b.client.ErasePerson(supervisor, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: caseID,
		SubjectId: member, Reason: intakev1.ErasureReason_ERASURE_REASON_UNLAWFUL_PROCESSING})
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.client.ErasePerson(supervisor, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: caseID,
		SubjectId: member, Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST})
	if err != nil || !proto.Equal(first.GetErasure(), second.GetErasure()) {
		t.Fatalf("second erasure = %v, %v; want the first, %v", second, err, first)
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM outbox.event WHERE event_type = 'passage.intake.v1.PersonErased'`); n != 1 {
		t.Fatalf("PersonErased events = %d, want 1", n)
	}
	got, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: caseID, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetIdentity().GetPrincipal().GetPerson().GetGivenName() != "Amina" || got.GetIdentity().GetHouseholdMembers()[0].GetErasure() == nil {
		t.Fatalf("identity after erasing the member = %v", got.GetIdentity())
	}
}

// TestIdentityDeleteNeedsErasure proves the database refuses to delete an identity without
// its erasure record, even to intake's own role.
func TestIdentityDeleteNeedsErasure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reg := b.register(t, registration(amina()))
	// Declared for the case's mission: row-level security shows intake the row, the trigger
	// still refuses to delete it.
	_, err := database.NewDB(b.env.Pool(t, intake.Role)).Mission(reg.GetCase().GetMission()).Exec(context.Background(),
		`DELETE FROM vault.identity WHERE subject_id = $1`, reg.GetCase().GetSubjectId())
	if err == nil {
		t.Fatal("an identity was deleted without an erasure record")
	}
	if n := b.env.Count(t, "vault.identity"); n != 1 {
		t.Fatalf("vault.identity = %d rows, want 1", n)
	}
}

func ownerPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func readSealed(t *testing.T, q *pgxpool.Pool, subject uuid.UUID) vault.Sealed {
	t.Helper()
	var s vault.Sealed
	err := q.QueryRow(context.Background(), `SELECT wrapped_key, identity FROM vault.identity WHERE subject_id = $1`, subject).
		Scan(&s.WrappedKey, &s.Ciphertext)
	if errors.Is(err, pgx.ErrNoRows) {
		t.Fatal("the restored dump has no row for the person")
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeAndReload writes a new KEK keyset where the server's keyring came from and has the
// keyring reload it, as a running server does on its timer or SIGHUP.
func writeAndReload(t *testing.T, env *testserver.Env, h *keyset.Handle) {
	t.Helper()
	if err := env.KeyFiles.KEK.Write(h); err != nil {
		t.Fatal(err)
	}
	if changed, err := env.KeyFiles.ReloadKEK(env.Keys); err != nil || !changed {
		t.Fatalf("reload: %v, %v", changed, err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("%s is needed: %v", name, err)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestErasureRowLevelSecurity proves vault.erasure is fenced by mission in the database:
// intake's role sees and writes erasure records only of the mission set in its transaction.
func TestErasureRowLevelSecurity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	reg := b.register(t, registration(amina()))
	if _, err := b.client.ErasePerson(b.env.As(t, auth.RoleSupervisor, "NER"), &intakev1.ErasePersonRequest{RequestId: uuid.NewString(),
		CaseId: reg.GetCase().GetCaseId(), Reason: intakev1.ErasureReason_ERASURE_REASON_CONSENT_WITHDRAWN}); err != nil {
		t.Fatal(err)
	}
	pool := b.env.Pool(t, intake.Role)
	count := func(mission string) int {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if mission != "" {
				if err := database.DeclareMission(ctx, tx, mission); err != nil {
					return err
				}
			}
			return tx.QueryRow(ctx, `SELECT count(*) FROM vault.erasure`).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("NER"); n != 1 {
		t.Fatalf("NER sees %d erasure records, want 1", n)
	}
	if n := count("DEU"); n != 0 {
		t.Fatalf("DEU sees %d of NER's erasure records", n)
	}
	if n := count(""); n != 0 {
		t.Fatalf("no mission set, %d erasure records visible", n)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := database.DeclareMission(ctx, tx, "DEU"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO vault.erasure (subject_id, mission, reason, erased_by) VALUES ($1, 'NER', 'DATA_SUBJECT_REQUEST', 'x')`, uuid.New())
		return err
	})
	if err == nil {
		t.Fatal("DEU wrote an erasure record of NER")
	}
}

// TestErasedPersonCannotComeBack: an erased principal's identity cannot be "corrected" back
// into the vault under the old subject id, nor carried into a new case.
func TestErasedPersonCannotComeBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	if _, err := b.client.ErasePerson(b.env.As(t, auth.RoleSupervisor, "NER"), &intakev1.ErasePersonRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}); err != nil {
		t.Fatal(err)
	}
	before := b.stored(t)
	_, err := b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"principal"}}, Principal: amina()})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	_, err = b.client.OpenCase(b.worker, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: c.GetCaseId(),
		Programme: commonv1.Programme_PROGRAMME_VOT, Consents: assistanceConsent()})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	if after := b.stored(t); !equalCounts(after, before) {
		t.Fatalf("a refused call wrote: %v, was %v", after, before)
	}
}

// TestErasePersonPolicy: of every role, only the mission supervisor may erase a person.
func TestErasePersonPolicy(t *testing.T) {
	t.Parallel()
	p := intake.Policy()
	for _, r := range auth.AllRoles() {
		if got, want := p.Allows(intakev1.IntakeService_ErasePerson_FullMethodName, r), r == auth.RoleSupervisor; got != want {
			t.Errorf("role %s may erase: %v, want %v", r, got, want)
		}
	}
}
