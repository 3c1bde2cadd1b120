package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// onePool is a pool of a single connection, so that a test sees what one statement leaves
// behind for the next user of the same connection.
func onePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// leftOver is what a pooled connection's next user would find declared.
func leftOver(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var got *string
	if err := pool.QueryRow(context.Background(), `SELECT current_setting('passage.mission', true)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		return ""
	}
	return *got
}

// Every way through DB declares the mission for the statement, and the declaration ends with
// it: the connection goes back to the pool declared for nothing.
func TestMissionIsDeclaredAndEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := onePool(t)
	db := database.NewDB(pool)
	const current = `SELECT current_setting('passage.mission')`
	q := db.Mission("NER-AGADEZ")

	var got string
	if err := q.QueryRow(ctx, current).Scan(&got); err != nil || got != "NER-AGADEZ" {
		t.Errorf("QueryRow: %q, %v", got, err)
	}
	if l := leftOver(t, pool); l != "" {
		t.Errorf("after QueryRow the connection is left declared for %q", l)
	}

	rows, err := q.Query(ctx, `SELECT current_setting('passage.mission') FROM generate_series(1, 3)`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(all) != 3 || all[0] != "NER-AGADEZ" {
		t.Errorf("Query: %v, %v", all, err)
	}
	// Rows read to the end give the connection back without an explicit Close.
	rows, err = q.Query(ctx, current)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if l := leftOver(t, pool); l != "" {
		t.Errorf("after Query the connection is left declared for %q", l)
	}

	if _, err := q.Exec(ctx, `DO $$ BEGIN IF current_setting('passage.mission') <> 'NER-AGADEZ' THEN RAISE 'undeclared'; END IF; END $$`); err != nil {
		t.Errorf("Exec: %v", err)
	}

	b := &pgx.Batch{}
	var first, second string
	b.Queue(current).QueryRow(func(r pgx.Row) error { return r.Scan(&first) })
	b.Queue(current).QueryRow(func(r pgx.Row) error { return r.Scan(&second) })
	if err := q.SendBatch(ctx, b).Close(); err != nil || first != "NER-AGADEZ" || second != "NER-AGADEZ" {
		t.Errorf("SendBatch: %q %q, %v", first, second, err)
	}
	if l := leftOver(t, pool); l != "" {
		t.Errorf("after SendBatch the connection is left declared for %q", l)
	}

	err = db.MissionTx(ctx, "HQ", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, current).Scan(&got); err != nil || got != "HQ" {
			t.Errorf("MissionTx: %q, %v", got, err)
		}
		// A consumer's handler declares each event's mission in turn.
		if err := database.DeclareMission(ctx, tx, "THA"); err != nil {
			return err
		}
		b := &pgx.Batch{}
		database.QueueMission(b, "YEM")
		b.Queue(current).QueryRow(func(r pgx.Row) error { return r.Scan(&got) })
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil || got != "YEM" {
		t.Errorf("declarations inside MissionTx: %q, %v", got, err)
	}
	if l := leftOver(t, pool); l != "" {
		t.Errorf("after MissionTx the connection is left declared for %q", l)
	}

	// A failing statement reports its own error and still gives the connection back.
	if _, err := q.Exec(ctx, `SELECT 1/0`); err == nil {
		t.Error("Exec of a failing statement succeeded")
	}
	if err := q.QueryRow(ctx, `SELECT 1 WHERE false`).Scan(&got); !errors.Is(err, pgx.ErrNoRows) {
		t.Errorf("QueryRow of no row = %v, want pgx.ErrNoRows", err)
	}
	if l := leftOver(t, pool); l != "" {
		t.Errorf("after failures the connection is left declared for %q", l)
	}
}

// A mission that is empty, or that could end the literal it is written into, is refused
// before anything reaches the database.
func TestUndeclaredIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := database.NewDB(onePool(t))
	for _, m := range []string{"", "NER'; SET ROLE postgres; --", "NER AGADEZ", "-NER", "ÑER"} {
		q := db.Mission(m)
		var n int
		if _, err := q.Exec(ctx, `SELECT 1`); !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("Mission(%q).Exec = %v, want ErrUndeclared", m, err)
		}
		if _, err := q.Query(ctx, `SELECT 1`); !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("Mission(%q).Query = %v, want ErrUndeclared", m, err)
		}
		if err := q.QueryRow(ctx, `SELECT 1`).Scan(&n); !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("Mission(%q).QueryRow = %v, want ErrUndeclared", m, err)
		}
		b := &pgx.Batch{}
		b.Queue(`SELECT 1`)
		if err := q.SendBatch(ctx, b).Close(); !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("Mission(%q).SendBatch = %v, want ErrUndeclared", m, err)
		}
		ran := false
		if err := db.MissionTx(ctx, m, func(pgx.Tx) error { ran = true; return nil }); !errors.Is(err, database.ErrUndeclared) || ran {
			t.Errorf("MissionTx(%q) = %v (ran %v), want ErrUndeclared", m, err, ran)
		}
	}
}
