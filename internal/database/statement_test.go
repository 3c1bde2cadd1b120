package database_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

func TestStatementSQL(t *testing.T) {
	t.Parallel()
	var st database.Statement
	if st.SQL() != "" {
		t.Fatalf("empty statement: %q", st.SQL())
	}
	st.Add("a", `INSERT INTO t VALUES (`+st.Arg(1)+`) RETURNING id`)
	st.Add("b", `INSERT INTO u SELECT id, `+st.Arg("x")+` FROM a`)
	st.Add("c", `INSERT INTO v VALUES (`+st.Arg(true)+`, `+st.Arg(2)+`)`)
	want := "WITH a AS (\nINSERT INTO t VALUES ($1) RETURNING id\n),\nb AS (\nINSERT INTO u SELECT id, $2 FROM a\n)\nINSERT INTO v VALUES ($3, $4)"
	if diff := cmp.Diff(want, st.SQL()); diff != "" {
		t.Errorf("SQL (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{1, "x", true, 2}, st.Args()); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if !st.Has("b") || st.Has("d") {
		t.Errorf("Has: b %v, d %v", st.Has("b"), st.Has("d"))
	}
	defer func() {
		if recover() == nil {
			t.Error("a part added twice under one name did not panic")
		}
	}()
	st.Add("a", `SELECT 1`)
}

// TestStatementWritesEveryPart pins what the composed writes rely on: every part runs, read
// by the main statement or not; a part may refer, by foreign key, to a row another part
// inserts; and one failing part undoes them all.
func TestStatementWritesEveryPart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (parent int NOT NULL REFERENCES parent, n int NOT NULL);
CREATE TABLE note (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	write := func(id, note int) error {
		var st database.Statement
		st.Add("note", `INSERT INTO note VALUES (`+st.Arg(note)+`)`)
		st.Add("child", `INSERT INTO child SELECT `+st.Arg(id)+`, n FROM unnest(`+st.Arg([]int32{1, 2})+`::int[]) n`)
		st.Add("parent", `INSERT INTO parent VALUES (`+st.Arg(id)+`)`)
		b := &pgx.Batch{}
		st.Queue(b)
		return pool.SendBatch(ctx, b).Close()
	}
	if err := write(1, 10); err != nil {
		t.Fatalf("a child inserted before its parent in one statement: %v", err)
	}
	// The note's key is taken: nothing of this second write stays.
	if err := write(2, 10); !database.IsUniqueViolation(err, "note_pkey") {
		t.Fatalf("second write: %v, want a unique violation on note_pkey", err)
	}
	var parents, children, notes int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child), (SELECT count(*) FROM note)`).
		Scan(&parents, &children, &notes); err != nil {
		t.Fatal(err)
	}
	if parents != 1 || children != 2 || notes != 1 {
		t.Errorf("rows: %d parents, %d children, %d notes; want 1, 2, 1", parents, children, notes)
	}
}
