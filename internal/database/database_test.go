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

func TestRoleURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, role, want string
		fails          bool
	}{
		{"postgres://postgres:secret@127.0.0.1:5432/passage?sslmode=disable", "passage_intake", "postgres://passage_intake@127.0.0.1:5432/passage?sslmode=disable", false},
		{"postgres://127.0.0.1/passage", "passage_intake", "postgres://passage_intake@127.0.0.1/passage", false},
		{"postgres://u@h/db", "", "postgres://u@h/db", false},
		{"host=localhost user=postgres", "passage_intake", "", true},
	} {
		got, err := database.RoleURL(tt.in, tt.role)
		if (err != nil) != tt.fails || got != tt.want {
			t.Errorf("RoleURL(%q, %q) = %q, %v; want %q (fails %v)", tt.in, tt.role, got, err, tt.want, tt.fails)
		}
	}
}

// TestBatchIsAtomic pins the property RegisterCase relies on: a batch sent outside an explicit
// transaction runs as one implicit transaction, so a failing statement undoes the ones
// before it.
func TestBatchIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO t VALUES (1)`)
	b.Queue(`INSERT INTO t VALUES (2)`)
	b.Queue(`INSERT INTO t VALUES (1)`) // unique violation
	err = pool.SendBatch(ctx, b).Close()
	if !database.IsUniqueViolation(err, "t_pkey") {
		t.Fatalf("batch error = %v, want a unique violation on t_pkey", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows survived a failed batch, want 0", n)
	}
}

func TestMissionTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db := database.NewDB(pool)
	boom := errors.New("boom")
	err = db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("MissionTx = %v, want boom", err)
	}
	// A serialization failure is retried: the first attempt fails as Postgres would report it.
	attempts := 0
	err = db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
		attempts++
		if attempts == 1 {
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$`)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES (2)`)
		return err
	})
	if err != nil || attempts != 2 {
		t.Fatalf("MissionTx after a serialization failure = %v after %d attempts, want success after 2", err, attempts)
	}
	var ids []int
	rows, _ := pool.Query(ctx, `SELECT id FROM t ORDER BY id`)
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || len(ids) != 1 || ids[0] != 2 {
		t.Errorf("rows = %v (%v), want [2]", ids, err)
	}
}

// TestMigrateDownAndUp checks that every migration reverts cleanly and applies again.
func TestMigrateDownAndUp(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	m, err := database.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v, dirty, err := m.Version()
	if err != nil || dirty || v == 0 {
		t.Fatalf("template version = %d dirty=%v err=%v", v, dirty, err)
	}
	for cur := v; cur > 0; {
		if err := m.Down(); err != nil {
			t.Fatalf("down from %d: %v", cur, err)
		}
		if cur, _, err = m.Version(); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if again, _, _ := m.Version(); again != v {
		t.Errorf("version after down and up = %d, want %d", again, v)
	}
}
