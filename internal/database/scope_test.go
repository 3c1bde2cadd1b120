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

// The webhook worker's declaration opens every mission's deliveries to the referral role, for
// the transaction only; a mission's declaration shows that mission's, and neither the
// worker's declaration by another role nor no declaration at all shows any.
func TestWebhookWorkerDeclaration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgtest.New(t)
	owner, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	for _, m := range []string{"NER", "NER", "DEU"} {
		if _, err := owner.Exec(ctx, `INSERT INTO webhook.delivery (mission, partner_id, ordering_key, event_id, event_type, body)
VALUES ($1, gen_random_uuid(), gen_random_uuid(), replace(gen_random_uuid()::text, '-', ''), 't', '{}')`, m); err != nil {
			t.Fatal(err)
		}
	}
	open := func(role string) *database.DB {
		pool, err := database.Open(ctx, database.PoolConfig{AdminURL: admin, Role: role, MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return database.NewDB(pool)
	}
	const count = `SELECT count(*) FROM webhook.delivery`
	countIn := func(q database.Querier) int {
		t.Helper()
		var n int
		if err := q.QueryRow(ctx, count).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	referral := open("passage_referral")
	if n := countIn(referral.WebhookWorker("webhook")); n != 3 {
		t.Errorf("the worker sees %d deliveries, want all 3", n)
	}
	if n := countIn(referral.Mission("NER")); n != 2 {
		t.Errorf("NER sees %d deliveries, want its 2", n)
	}
	var n int
	err = referral.WebhookWorkerTx(ctx, "webhook", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, count).Scan(&n); err != nil {
			return err
		}
		// The worker may move a delivery of any mission, never create one.
		if tag, err := tx.Exec(ctx, `UPDATE webhook.delivery SET attempts = attempts + 1`); err != nil || tag.RowsAffected() != 3 {
			t.Errorf("worker update: %v rows, %v", tag.RowsAffected(), err)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("WebhookWorkerTx sees %d, %v; want 3", n, err)
	}
	_, err = referral.WebhookWorker("webhook").Exec(ctx, `INSERT INTO webhook.delivery (mission, partner_id, ordering_key, event_id, event_type, body)
VALUES ('NER', gen_random_uuid(), gen_random_uuid(), 'x', 't', '{}')`)
	if err == nil {
		t.Error("the worker's declaration created a delivery")
	}
	// The declaration ends with its transaction: the pool's one connection is clean again.
	var left *string
	if err := referral.Mission("NER").QueryRow(ctx, `SELECT current_setting('passage.webhook_worker', true)`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != nil && *left != "" {
		t.Errorf("the connection is left declared for the worker %q", *left)
	}
	// Another service's role with the same declaration has no grant at all.
	if _, err := open("passage_intake").WebhookWorker("webhook").Exec(ctx, count); err == nil {
		t.Error("passage_intake read the deliveries")
	}
	// Without the setting, the referral role's own connection sees nothing of any mission.
	var raw int
	pool, err := database.Open(ctx, database.PoolConfig{AdminURL: admin, Role: "passage_referral", MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.QueryRow(ctx, count).Scan(&raw); err != nil || raw != 0 {
		t.Errorf("undeclared: %d rows, %v; want none", raw, err)
	}
}

// WithMission declares the mission with the next statement, whichever way it is sent, and the
// declaration holds for every statement after it in the transaction.
func TestWithMission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := database.NewDB(onePool(t))
	const current = `SELECT current_setting('passage.mission')`
	ways := map[string]func(tx pgx.Tx) (string, error){
		"QueryRow": func(tx pgx.Tx) (string, error) {
			var got string
			err := tx.QueryRow(ctx, current).Scan(&got)
			return got, err
		},
		"Query": func(tx pgx.Tx) (string, error) {
			rows, err := tx.Query(ctx, current)
			if err != nil {
				return "", err
			}
			return pgx.CollectExactlyOneRow(rows, pgx.RowTo[string])
		},
		"Exec": func(tx pgx.Tx) (string, error) {
			_, err := tx.Exec(ctx, `DO $$ BEGIN IF current_setting('passage.mission') <> 'YEM' THEN RAISE 'undeclared'; END IF; END $$`)
			return "YEM", err
		},
		"SendBatch": func(tx pgx.Tx) (string, error) {
			var got string
			b := &pgx.Batch{}
			b.Queue(current).QueryRow(func(r pgx.Row) error { return r.Scan(&got) })
			err := tx.SendBatch(ctx, b).Close()
			return got, err
		},
	}
	for name, first := range ways {
		t.Run(name, func(t *testing.T) {
			err := db.OutboxConsumerTx(ctx, "returns", func(tx pgx.Tx) error {
				if err := database.DeclareMission(ctx, tx, "THA"); err != nil {
					return err
				}
				tx = database.WithMission(tx, "YEM")
				if got, err := first(tx); err != nil || got != "YEM" {
					t.Errorf("first statement: %q, %v", got, err)
				}
				var got string
				if err := tx.QueryRow(ctx, current).Scan(&got); err != nil || got != "YEM" {
					t.Errorf("next statement: %q, %v", got, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// A first statement that fails reports its own error, not the declaration's.
	err := db.OutboxConsumerTx(ctx, "returns", func(tx pgx.Tx) error {
		_, err := database.WithMission(tx, "YEM").Exec(ctx, `SELECT 1/0`)
		return err
	})
	if err == nil {
		t.Error("a failing first statement succeeded")
	}
}
