package bulk

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/pgtest"
)

// TestLoad loads a small population twice and checks the rollup against the facts the way
// the migration says it can be checked: grouped by every key, the facts are the rollup.
func TestLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := pgtest.Connect(t, pgtest.New(t))
	g, err := NewGenerator(DefaultConfig(11))
	if err != nil {
		t.Fatal(err)
	}
	var progress int64
	rep, err := Load(ctx, conn, g, 12_000, Options{Generators: 2, Progress: func(n int64) { progress = max(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Persons != 12_000 || rep.Facts < rep.Persons || rep.RollupRows == 0 || progress != 12_000 {
		t.Errorf("report %+v, progress %d", rep, progress)
	}
	var facts int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM analytics.fact WHERE event_id < 0`).Scan(&facts); err != nil {
		t.Fatal(err)
	}
	if facts != rep.Facts {
		t.Errorf("%d facts in the table, report says %d", facts, rep.Facts)
	}
	checkRollup(t, conn)

	// A second load (of the same seed: the same persons again, under new event ids) adds to the
	// combinations already there, and marks every row it touched with its transaction, which
	// is how the service's in-memory copy finds what changed.
	rep2, err := Load(ctx, conn, g, 2_000, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkRollup(t, conn)
	var touched int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM analytics.rollup
WHERE tx_id = (SELECT max(tx_id) FROM analytics.rollup)`).Scan(&touched); err != nil {
		t.Fatal(err)
	}
	if touched != rep2.RollupRows {
		t.Errorf("the second load touched %d rollup rows, %d carry its transaction id", rep2.RollupRows, touched)
	}

	// Only facts (and nothing else) were written: no case, no event.
	var events int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM outbox.event`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 0 {
		t.Errorf("%d outbox events written", events)
	}
}

// TestLoadRefusesServiceRoles: the anonymised tables are written by the projector alone;
// the loader runs as the migrations' owner, and says so to anyone else.
func TestLoadRefusesServiceRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := pgtest.Connect(t, pgtest.New(t))
	if _, err := conn.Exec(ctx, `SET ROLE passage_analytics`); err != nil {
		t.Fatal(err)
	}
	g, _ := NewGenerator(DefaultConfig(1))
	if _, err := Load(ctx, conn, g, 100, Options{}); !errors.Is(err, ErrPrivileges) {
		t.Fatalf("err = %v, want ErrPrivileges", err)
	}
	if _, err := conn.Exec(ctx, `RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM analytics.rollup`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rollup rows after a refused load: %d (%v)", n, err)
	}
}

// TestLoadSkipFacts writes the rollup alone.
func TestLoadSkipFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := pgtest.Connect(t, pgtest.New(t))
	g, _ := NewGenerator(DefaultConfig(3))
	rep, err := Load(ctx, conn, g, 3_000, Options{SkipFacts: true})
	if err != nil {
		t.Fatal(err)
	}
	var facts, persons int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM analytics.fact), (SELECT sum(persons) FROM analytics.rollup)`).Scan(&facts, &persons); err != nil {
		t.Fatal(err)
	}
	if facts != 0 || persons != rep.Facts {
		t.Errorf("facts %d (want 0), rollup persons %d (want %d)", facts, persons, rep.Facts)
	}
}

func checkRollup(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	var diff, zeroTx int64
	err := conn.QueryRow(context.Background(), `
WITH f AS (
  SELECT measure, year, programme, sex, age_band, nationality, host_country, return_country,
    vulnerabilities, assistance_type, exploitation_types, count(*) AS persons
  FROM analytics.fact
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SELECT count(*) FROM f FULL JOIN analytics.rollup r USING (measure, year, programme, sex, age_band, nationality,
  host_country, return_country, vulnerabilities, assistance_type, exploitation_types)
WHERE f.persons IS DISTINCT FROM r.persons`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Errorf("%d rollup rows differ from the facts grouped", diff)
	}
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM analytics.rollup WHERE tx_id IS NULL`).Scan(&zeroTx); err != nil {
		t.Fatal(err)
	}
	if zeroTx != 0 {
		t.Errorf("%d rollup rows without a transaction id", zeroTx)
	}
}
