package handover_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/passage-cm/passage/internal/database"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	"github.com/passage-cm/passage/services/handover"
)

// TestRowSecurityAsHandoverRole proves the sharing rule in the database itself: connected as
// the service's role, a transaction declared for the sending or the receiving mission sees the
// hand-over and its parts, one declared for a third mission or for none sees and changes
// nothing; only the sender may insert a hand-over; the case projection is the sending
// mission's, which the receiving mission reads while the hand-over is open and never
// changes; only HQ publishes a profile. And the role is bound by all of it: it owns
// nothing and does not bypass row-level security.
func TestRowSecurityAsHandoverRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	h := b.accept(t, b.propose(t, proposal(c, reception, monitoring)))

	ctx := context.Background()
	url, err := database.RoleURL(b.env.AdminURL, handover.Role)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	for _, tc := range []struct {
		mission                 string
		handovers, parts, case_ int
	}{
		{"DEU", 1, 2, 1},
		{"IRQ", 1, 2, 1},
		{"NER", 0, 0, 0},
		{"", 0, 0, 0},
	} {
		for table, want := range map[string]int{"handover.handover": tc.handovers, "handover.part": tc.parts, `handover."case"`: tc.case_} {
			if got := count(t, conn, tc.mission, `SELECT count(*) FROM `+table); got != want {
				t.Errorf("declared %q: %s shows %d rows, want %d", tc.mission, table, got, want)
			}
		}
	}
	for _, m := range []string{"NER", ""} {
		for _, sql := range []string{`UPDATE handover.handover SET status = 'WITHDRAWN'`, `UPDATE handover.part SET open = false`,
			`UPDATE handover."case" SET intake_status = 'CLOSED'`} {
			if tag, err := exec(conn, m, sql); err != nil || tag.RowsAffected() != 0 {
				t.Errorf("declared %q: %s = %v, %v; want no row", m, sql, tag, err)
			}
		}
	}

	if tag, err := exec(conn, "IRQ", `UPDATE handover."case" SET intake_status = 'CLOSED'`); err != nil || tag.RowsAffected() != 0 {
		t.Errorf("declared IRQ: the case projection updated: %v, %v; want no row", tag, err)
	}

	// A copy of the hand-over under a new id, inserted by each mission: only the sender may.
	insert := `INSERT INTO handover.handover (handover_id, case_id, subject_id, programme, from_mission, to_mission, parts,
purpose, consent_id, legal_basis, profile_version, status, decline_reason, version, proposed_by, created_at, updated_at)
SELECT gen_random_uuid(), case_id, subject_id, programme, from_mission, to_mission, parts, purpose, consent_id,
legal_basis, profile_version, 'WITHDRAWN', NULL, 1, proposed_by, created_at, updated_at FROM handover.handover`
	for _, m := range []string{"IRQ", "NER"} {
		_, err := exec(conn, m, insert)
		if m == "NER" {
			// NER sees no row to copy: write it out in full instead.
			_, err = exec(conn, m, `INSERT INTO handover.part (handover_id, case_id, part, from_mission, to_mission, open)
VALUES (gen_random_uuid(), gen_random_uuid(), 'RECEPTION', 'DEU', 'IRQ', false)`)
		}
		wantRefused(t, m, err)
	}
	// Nor may either mission rewrite who a hand-over is between: a move changes its status.
	for _, m := range []string{"DEU", "IRQ"} {
		_, err := exec(conn, m, `UPDATE handover.handover SET to_mission = 'NER'`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "permission denied") {
			t.Errorf("declared %s: rewriting to_mission = %v, want permission denied", m, err)
		}
	}
	if tag, err := exec(conn, "DEU", insert); err != nil || tag.RowsAffected() != 1 {
		t.Errorf("DEU copies its hand-over: %v, %v", tag, err)
	}
	_, err = exec(conn, "DEU", `INSERT INTO handover.profile (programme, version, fields, published_by) VALUES ('AVRR', 99, '{SEX}', 'x')`)
	wantRefused(t, "DEU", err)
	if tag, err := exec(conn, "HQ", `INSERT INTO handover.profile (programme, version, fields, published_by) VALUES ('AVRR', 99, '{SEX}', 'x')`); err != nil || tag.RowsAffected() != 1 {
		t.Errorf("HQ publishes: %v, %v", tag, err)
	}

	// Completed, the hand-over no longer shows the receiving mission the case.
	if _, err := b.ho.CompleteHandover(b.irq, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()}); err != nil {
		t.Fatalf("CompleteHandover: %v", err)
	}
	if got := count(t, conn, "IRQ", `SELECT count(*) FROM handover."case"`); got != 0 {
		t.Errorf("declared IRQ: the case of a completed hand-over shows %d rows, want 0", got)
	}

	var super, bypass bool
	var owned int
	err = conn.QueryRow(ctx, `SELECT rolsuper, rolbypassrls,
  (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) + (SELECT count(*) FROM pg_namespace n WHERE n.nspowner = r.oid)
FROM pg_roles r WHERE rolname = $1`, handover.Role).Scan(&super, &bypass, &owned)
	if err != nil || super || bypass || owned != 0 {
		t.Errorf("role %s: superuser=%v bypassrls=%v owns %d (%v); want none", handover.Role, super, bypass, owned, err)
	}
}

// exec runs sql in a transaction declared for mission m (none when m is empty), and rolls it
// back.
func exec(conn *pgx.Conn, m, sql string) (pgconn.CommandTag, error) {
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // nothing may stay
	if m != "" {
		if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, true)`, database.MissionSetting, m); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	return tx.Exec(ctx, sql)
}

// count reads one count in a transaction declared for mission m.
func count(t *testing.T, conn *pgx.Conn, m, sql string) int {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if m != "" {
		if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, true)`, database.MissionSetting, m); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := tx.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("declared %q: %s: %v", m, sql, err)
	}
	return n
}

// wantRefused fails the test unless err is a row-level security violation.
func wantRefused(t *testing.T, m string, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "row-level security") {
		t.Errorf("declared %s: %v, want a row-level security violation", m, err)
	}
}
