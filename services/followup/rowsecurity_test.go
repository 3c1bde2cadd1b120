package followup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/passage-cm/passage/internal/database"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/followup"
)

// declared runs fn in a transaction of conn declared for mission (none when empty) and, with
// consumer, for the follow-up service's outbox consumer; nothing it writes stays.
func declared(t *testing.T, conn *pgx.Conn, mission string, consumer bool, fn func(ctx context.Context, tx pgx.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // nothing may stay
	settings := map[string]string{database.MissionSetting: mission}
	if consumer {
		settings[database.ConsumerSetting] = "followup"
	}
	for k, v := range settings {
		if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, true)`, k, v); err != nil {
			t.Fatal(err)
		}
	}
	return fn(ctx, tx)
}

// read reads one count as declared says.
func read(t *testing.T, conn *pgx.Conn, mission string, consumer bool, sql string) (n int64, err error) {
	t.Helper()
	err = declared(t, conn, mission, consumer, func(ctx context.Context, tx pgx.Tx) error { return tx.QueryRow(ctx, sql).Scan(&n) })
	return n, err
}

// write runs one write as declared says and returns the rows it affected.
func write(t *testing.T, conn *pgx.Conn, mission string, consumer bool, sql string) (n int64, err error) {
	t.Helper()
	err = declared(t, conn, mission, consumer, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// TestRowSecurityOfParts, as the follow-up role: a grant is seen by its two missions and no
// third, written only under the receiving mission's declaration and never changed; the
// receiving mission reaches the sending mission's follow-ups of the case only in the
// consumer's transaction, and only to take them.
func TestRowSecurityOfParts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// DEU's return departs and arrives, then DEU hands its reception, done, and its monitoring
	// over to IRQ: the visits move, the plan stays DEU's.
	caseID := uuid.NewString()
	b.publish(t, "returns", "DEU", caseID, &commonv1.DepartureRecorded{CaseId: caseID, Mission: "DEU",
		Programme: commonv1.Programme_PROGRAMME_AVRR, DepartureDate: day(2025, 6, 2)})
	b.publish(t, "returns", "DEU", caseID, &returnsv1.ArrivalRecorded{CaseId: caseID, Mission: "DEU",
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2025, 6, 3)}})
	b.accept(t, caseID)
	b.await(t, "the grant", func() bool { return b.env.QueryInt(t, `SELECT count(*) FROM followup.part`) == 1 })
	if fs := b.caseFollowUps(t, b.boss, caseID); len(fs) != 2 || countOpen(fs) != 1 {
		t.Fatalf("DEU's follow-ups: %v, want the plan open, the confirmation closed", fs)
	}

	url, err := database.RoleURL(b.env.AdminURL, followup.Role)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	for m, want := range map[string]int64{"DEU": 1, "IRQ": 1, "NER": 0, "": 0} {
		if n, err := read(t, conn, m, false, `SELECT count(*) FROM followup.part`); err != nil || n != want {
			t.Errorf("declared %q: %d grants (%v), want %d", m, n, err, want)
		}
	}
	copyGrant := `INSERT INTO followup.part SELECT gen_random_uuid(), case_id, mission, from_mission, programme, parts, accepted_at FROM followup.part`
	if n, err := write(t, conn, "IRQ", false, copyGrant); err != nil || n != 1 {
		t.Errorf("IRQ writes a grant it receives: %d, %v", n, err)
	}
	_, err = write(t, conn, "DEU", false, copyGrant)
	wantPgCode(t, "DEU writes a grant to IRQ", err, "42501")
	_, err = write(t, conn, "IRQ", false, `UPDATE followup.part SET parts = '{TRANSFER}'`)
	wantPgCode(t, "IRQ changes its grant", err, "42501")

	// DEU's follow-ups of the case, as each declaration reaches them.
	deus := ` WHERE mission = 'DEU' AND case_id = '` + caseID + `'`
	for _, tc := range []struct {
		mission  string
		consumer bool
		read     int64
	}{
		{"IRQ", false, 0}, // a request of IRQ
		{"NER", true, 0},  // a mission without the grant, even as the consumer
		{"IRQ", true, 1},  // the consumer, for the receiver: the case's open follow-up only
	} {
		if n, err := read(t, conn, tc.mission, tc.consumer, `SELECT count(*) FROM followup.follow_up`+deus); err != nil || n != tc.read {
			t.Errorf("declared %s (consumer %v): reads %d (%v), want %d", tc.mission, tc.consumer, n, err, tc.read)
		}
		if n, err := write(t, conn, tc.mission, tc.consumer, `UPDATE followup.follow_up SET mission = '`+tc.mission+`'`+deus); err != nil || n != tc.read {
			t.Errorf("declared %s (consumer %v): takes %d (%v), want %d", tc.mission, tc.consumer, n, err, tc.read)
		}
	}
	// Taking a follow-up for a third mission is refused even to the consumer.
	_, err = write(t, conn, "IRQ", true, `UPDATE followup.follow_up SET mission = 'NER'`+deus)
	wantPgCode(t, "the consumer, for IRQ, gives DEU's follow-ups to NER", err, "42501")
	_, err = write(t, conn, "IRQ", true, `DELETE FROM followup.follow_up`+deus)
	wantPgCode(t, "the consumer, for IRQ, deletes DEU's follow-ups", err, "42501")
}

func countOpen(fs []*followupv1.FollowUp) int {
	n := 0
	for _, f := range fs {
		if isOpen(f) {
			n++
		}
	}
	return n
}

// wantPgCode fails the test unless err is a Postgres error of code.
func wantPgCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		t.Errorf("%s: %v, want SQLSTATE %s", what, err, code)
	}
}
