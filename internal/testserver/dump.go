package testserver

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Tables lists the test database's tables, read as the owner, as quoted identifiers
// ("schema"."table"), but those of the system schemas and of the schemas named in except.
func (e *Env) Tables(t testing.TB, except ...string) []string {
	t.Helper()
	var tables []string
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, `SELECT schemaname, tablename FROM pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND NOT schemaname = ANY ($1::text[])`, append([]string{}, except...))
		if err != nil {
			t.Fatal(err)
		}
		tables, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var s, n string
			err := r.Scan(&s, &n)
			return pgx.Identifier{s, n}.Sanitize(), err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	return tables
}

// Dump reads every row of every table of the test's database as the owner, each row as
// Postgres writes it as text (a bytea column hex-encoded, "\x…"), as a dump or a backup would
// show it, lower-cased, one row a line: what the scans for planted personal data search.
func (e *Env) Dump(t testing.TB) string {
	t.Helper()
	tables := e.Tables(t)
	if len(tables) < 7 {
		t.Fatalf("found only %d tables: %v", len(tables), tables)
	}
	var dump strings.Builder
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		for _, table := range tables {
			rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" t")
			if err != nil {
				t.Fatal(err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range texts {
				dump.WriteString(s)
				dump.WriteByte('\n')
			}
		}
	})
	return strings.ToLower(dump.String())
}
