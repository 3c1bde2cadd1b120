package attack_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// TestDirectSQL connects as each service's database role, as an attacker holding a
// service's credentials would, and tries to read and change what the role does not own:
// the other services' schemas, the vault (only intake holds identity), the outbox's past
// (append-only for everyone, and each role writes only its own events), and the schema itself
// (no role owns or creates tables). Each statement must fail with insufficient_privilege.
func TestDirectSQL(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{})
	ownSchemas := map[string][]string{
		intake.Role:      {"intake", "vault"},
		returns.Role:     {"returns"},
		trafficking.Role: {"trafficking"},
		hasm.Role:        {"hasm"},
		followup.Role:    {"followup"},
		handover.Role:    {"handover"},
	}
	serviceSchemas := []string{"intake", "vault", "returns", "trafficking", "hasm", "followup", "handover"}
	columns := firstColumns(t, env)
	if len(columns) == 0 {
		t.Fatal("no tables found")
	}

	for role, own := range ownSchemas {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			pool := env.Pool(t, role)
			var attempts []string
			for table, col := range columns {
				schema := strings.Trim(strings.SplitN(table, ".", 2)[0], `"`)
				if slices.Contains(own, schema) || !slices.Contains(serviceSchemas, schema) {
					continue
				}
				read := "SELECT count(*) FROM " + table
				if table == "intake.staff_member" {
					// Every service role reads the staff directory's ids, codes and states by
					// design, to admit each call (internal/staffdir); never a name.
					read = "SELECT display_name FROM " + table
				}
				attempts = append(attempts,
					read,
					"INSERT INTO "+table+" DEFAULT VALUES",
					fmt.Sprintf("UPDATE %s SET %s = %s", table, col, col),
					"DELETE FROM "+table,
					"TRUNCATE "+table,
				)
			}
			attempts = append(attempts,
				// The outbox is history: a service adds to it and never rewrites it.
				"UPDATE outbox.event SET mission = mission",
				"DELETE FROM outbox.event",
				"TRUNCATE outbox.event",
				// A role owns no tables: it cannot create one, nor change or drop its own.
				"CREATE TABLE "+own[0]+".attack (x text)",
				"CREATE TABLE public.attack (x text)",
				"CREATE SCHEMA attack",
			)
			// Another service's event, for the role's own declared mission: a HandoverAccepted
			// would grant IRQ a case's parts and its identity (migration 000032), an intake
			// event would rewrite a case in every projection.
			forged := "handover"
			if role == handover.Role {
				forged = "intake"
			}
			attempts = append(attempts, `SELECT set_config('passage.mission', 'IRQ', true);
INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload)
VALUES ('`+forged+`', 'passage.handover.v1.HandoverAccepted', gen_random_uuid(), 'IRQ', '\x')`)
			for other := range ownSchemas {
				if other != role {
					attempts = append(attempts, "SET ROLE "+other)
				}
			}
			for _, sql := range attempts {
				if err := tryAs(t.Context(), pool, sql); !isInsufficientPrivilege(err) {
					t.Errorf("as %s: %s: %v, want insufficient_privilege (42501)", role, sql, err)
				}
			}
		})
	}
}

type execer interface {
	Begin(context.Context) (pgx.Tx, error)
}

// tryAs runs sql in a transaction it always rolls back, so a statement that wrongly
// succeeds leaves nothing behind for the other attempts.
func tryAs(ctx context.Context, db execer, sql string) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, sql)
	return err
}

func isInsufficientPrivilege(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// firstColumns maps every service table to one of its columns, quoted, read as the owner.
func firstColumns(t *testing.T, env *testserver.Env) map[string]string {
	t.Helper()
	out := map[string]string{}
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, _ := conn.Query(ctx, `
		SELECT DISTINCT ON (table_schema, table_name)
		       quote_ident(table_schema) || '.' || quote_ident(table_name), quote_ident(column_name)
		FROM information_schema.columns
		WHERE table_schema IN ('intake', 'vault', 'returns', 'trafficking', 'hasm', 'followup', 'handover')
		ORDER BY table_schema, table_name, ordinal_position`)
		var table, col string
		if _, err := pgx.ForEachRow(rows, []any{&table, &col}, func() error {
			out[table] = col
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	return out
}
