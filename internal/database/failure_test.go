package database_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// classifies asserts what Classify says of err.
func classifies(t *testing.T, err error, want database.Failure, wantOK bool) {
	t.Helper()
	got, ok := database.Classify(err)
	if ok != wantOK || got != want {
		t.Errorf("Classify(%v) = %+v, %v; want %+v, %v", err, got, ok, want, wantOK)
	}
}

var (
	unreachableNothingApplied = database.Failure{Kind: database.Unreachable, Outcome: database.NotApplied}
	unreachableUnknown        = database.Failure{Kind: database.Unreachable, Outcome: database.OutcomeUnknown}
	rolledBack                = database.Failure{Kind: database.RolledBack, Outcome: database.NotApplied}
)

func TestClassifyErrorsAlone(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("insert case: %w", &pgconn.PgError{Code: code}) }
	for _, tt := range []struct {
		name string
		err  error
		want database.Failure
		ok   bool
	}{
		{"serialization failure", pg("40001"), rolledBack, true},
		{"deadlock", pg("40P01"), rolledBack, true},
		{"lock timeout", pg("55P03"), rolledBack, true},
		{"statement timeout", pg("57014"), rolledBack, true},
		{"admin shutdown", pg("57P01"), unreachableUnknown, true},
		{"crash shutdown", pg("57P02"), unreachableUnknown, true},
		{"starting up", pg("57P03"), unreachableUnknown, true},
		{"too many connections", pg("53300"), unreachableUnknown, true},
		{"connection exception", pg("08006"), unreachableUnknown, true},
		{"reset connection", fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}), unreachableUnknown, true},
		{"closed connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), unreachableUnknown, true},
		{"marked as nothing applied", database.NothingApplied(pg("57P01")), unreachableNothingApplied, true},
		{"unique violation", pg("23505"), database.Failure{}, false},
		{"check violation", pg("23514"), database.Failure{}, false},
		{"plain error", errors.New("vault sealed"), database.Failure{}, false},
		{"a deadline not of the database", fmt.Errorf("vault: %w", context.DeadlineExceeded), database.Failure{}, false},
		{"nil", nil, database.Failure{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) { classifies(t, tt.err, tt.want, tt.ok) })
	}
	if err := errors.New("x"); database.NothingApplied(err) != err {
		t.Error("NothingApplied changed an error that is not a database failure")
	}
}

// TestClassifyFailuresOfARealServer provokes each failure from a real Postgres, at the
// place where it happens, and checks what Classify makes of it.
func TestClassifyFailuresOfARealServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.New(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `
		CREATE TABLE t (id int PRIMARY KEY);
		CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;
		CREATE TABLE dies_at_commit (id int);
		CREATE CONSTRAINT TRIGGER die AFTER INSERT ON dies_at_commit
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION die();`); err != nil {
		t.Fatal(err)
	}
	db := database.NewDB(pool)

	t.Run("nobody listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		conn, err := pgx.Connect(ctx, "postgres://nobody@"+addr+"/passage?connect_timeout=5")
		if err == nil {
			conn.Close(ctx)
			t.Fatal("connected to a closed port")
		}
		classifies(t, err, unreachableNothingApplied, true)
	})

	t.Run("statement timeout", func(t *testing.T) {
		err := db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = '20ms'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT pg_sleep(5)`)
			return err
		})
		classifies(t, err, rolledBack, true)
	})

	t.Run("connection lost before commit is retried", func(t *testing.T) {
		attempts := 0
		err := db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
			attempts++
			if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`); err != nil {
				return err
			}
			if attempts == 1 {
				_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
				if err == nil {
					return errors.New("the backend survived its termination")
				}
				return err
			}
			return nil
		})
		if err != nil || attempts != 2 {
			t.Fatalf("MissionTx = %v after %d attempts; want success at the second", err, attempts)
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM t WHERE id = 1`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("rows = %d, %v; want the row once", n, err)
		}
	})

	t.Run("connection lost at commit", func(t *testing.T) {
		err := db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO dies_at_commit VALUES (1)`)
			return err
		})
		classifies(t, err, unreachableUnknown, true)
	})

	t.Run("connection lost in a batch", func(t *testing.T) {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO t VALUES (2)`)
		b.Queue(`SELECT pg_terminate_backend(pg_backend_pid())`)
		err := db.Mission("NER").SendBatch(ctx, b).Close()
		classifies(t, err, unreachableUnknown, true)
	})

	t.Run("constraint violation is the request's", func(t *testing.T) {
		err := db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`)
			return err
		})
		classifies(t, err, database.Failure{}, false)
	})
}
