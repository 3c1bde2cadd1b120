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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// What these tests add to internal/stories' TestRowSecurityAsEachRole, which proves that each
// service role, declaring a mission as the services do, reaches that mission's rows only and
// nothing undeclared: here the role is the attacker's (stolen credentials, or SQL injected
// into a service), declares mission B, where nothing is registered, and tries what the
// services never do to reach mission A's rows. Every table is then empty to it, or the
// statement is refused.

// serviceRoles are the roles that connect to the database on a service's behalf; analytics
// has no service yet, but its role exists and reads the outbox.
var serviceRoles = []string{intake.Role, returns.Role, trafficking.Role, hasm.Role, followup.Role, handover.Role, "passage_analytics"}

// evasion is one attempt to see past the declared mission: statements run at the start of a
// transaction, before counting a table's rows.
type evasion struct {
	name  string
	setup []string
	// allowed says which (role, table) the settings open across missions by design.
	allowed func(role, table string) bool
}

func declare(setting, value string) string {
	return fmt.Sprintf("SELECT set_config('%s', %s, true)", setting, quoteLiteral(value))
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

var evasions = []evasion{
	// The policies compare the setting with =: the value is data, never SQL, and no pattern,
	// list or case-folding widens it.
	{name: "mission with SQL", setup: []string{declare(database.MissionSetting, missionB+"' OR '1'='1")}},
	{name: "mission with SQL ending the policy", setup: []string{declare(database.MissionSetting, missionB+"') OR true --")}},
	{name: "mission list", setup: []string{declare(database.MissionSetting, missionB+","+missionA)}},
	{name: "mission wildcard", setup: []string{declare(database.MissionSetting, "%")}},
	{name: "mission in lower case", setup: []string{declare(database.MissionSetting, strings.ToLower(missionA))}},
	{name: "mission with a trailing space", setup: []string{declare(database.MissionSetting, missionA+" ")}},
	// The retention job's setting opens three of intake's tables to passage_intake, by design
	// (migrations/000009); to no other role, and no other table.
	{name: "maintenance", setup: []string{declare(database.MissionSetting, missionB), declare(database.MaintenanceSetting, "retention")},
		allowed: func(role, table string) bool {
			return role == intake.Role && slices.Contains([]string{`intake."case"`, "intake.case_member", "vault.identity"}, table)
		}},
	{name: "maintenance under another name", setup: []string{declare(database.MissionSetting, missionB), declare(database.MaintenanceSetting, "Retention")}},
	{name: "maintenance with a trailing space, by SET LOCAL", setup: []string{declare(database.MissionSetting, missionB), "SET LOCAL passage.maintenance = 'retention '"}},
	// The consumers' setting opens intake's events to the programme services, every event to
	// analytics (migrations/000007), and the hand-over service's acceptances, completions and
	// profiles to intake (000028), by design; nothing else.
	{name: "outbox consumer", setup: []string{declare(database.MissionSetting, missionB), declare(database.ConsumerSetting, "returns")},
		allowed: func(role, table string) bool { return table == "outbox.event" }},
	// Undoing the declaration leaves nothing declared, which shows nothing, not everything.
	{name: "RESET after declaring", setup: []string{declare(database.MissionSetting, missionB), "RESET passage.mission"}},
	{name: "RESET ALL after declaring", setup: []string{declare(database.MissionSetting, missionB), "RESET ALL"}},
	{name: "mission set to NULL", setup: []string{"SELECT set_config('passage.mission', NULL, true)"}},
	// A role bound by row-level security cannot switch it off: the query is refused.
	{name: "row_security off", setup: []string{declare(database.MissionSetting, missionB), "SET LOCAL row_security = off"}},
}

// TestRowSecurityEvasion runs every evasion as every service role against every table the
// role may read: none shows a row of mission A, or the statement is refused with
// insufficient_privilege; the few openings by design are checked to be just those.
func TestRowSecurityEvasion(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	setUpVictimMission(t, env)
	settledCounts(t, env, tables(t, env))
	readable := readableTables(t, env)

	for _, role := range serviceRoles {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			pool := env.Pool(t, role)
			if len(readable[role]) == 0 {
				t.Fatalf("%s may read no table: the attempts prove nothing", role)
			}
			for _, table := range readable[role] {
				for _, e := range evasions {
					n, err := countAfter(t.Context(), pool, e.setup, "SELECT count(*) FROM "+table)
					switch {
					case err != nil && !isInsufficientPrivilege(err):
						t.Errorf("%s on %s: %v, want no rows or insufficient_privilege", e.name, table, err)
					case err == nil && n > 0 && (e.allowed == nil || !e.allowed(role, table)):
						t.Errorf("%s: %s sees %d rows of %s", e.name, role, n, table)
					case err == nil && n == 0 && e.allowed != nil && e.allowed(role, table):
						// The opening by design must be real, or the check above proves nothing.
						t.Errorf("%s: %s sees no row of %s, which the setting opens by design", e.name, role, table)
					}
				}
			}
		})
	}
}

// TestRowSecurityErrorChannel: an attacker who cannot read a row may still learn it exists if
// a condition that fails on it is evaluated before the policy (a division by zero raises an
// error only when some row reaches it). The policies are applied first, so with mission B
// declared, a condition that fails on every row raises nothing: no row of A reaches it.
func TestRowSecurityErrorChannel(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	setUpVictimMission(t, env)
	settledCounts(t, env, tables(t, env))
	readable := readableTables(t, env)
	controls := 0
	for _, role := range serviceRoles {
		pool := env.Pool(t, role)
		for _, table := range readable[role] {
			if table == "hasm.fund" {
				continue // HQ's, readable by every declared mission
			}
			sql := "SELECT count(*) FROM " + table + " t WHERE 1 / (length(t::text) - length(t::text)) = 0"
			for _, m := range []string{missionB, missionA} {
				_, err := countAfter(t.Context(), pool, []string{declare(database.MissionSetting, m)}, sql)
				var pgErr *pgconn.PgError
				failed := errors.As(err, &pgErr) && pgErr.Code == "22012"
				switch {
				case m == missionB && err != nil:
					t.Errorf("as %s declaring %s, a failing condition on %s: %v, want no error (no row reaches it)", role, m, table, err)
				case m == missionA && failed:
					controls++
				case m == missionA && visible(t, pool, missionA, table) > 0:
					// The control: declared for A, the rows A's declaration shows do reach the
					// condition. (Not every row of A's: the consumers read events only as
					// consumers, and HQ's anonymised statistics show only to HQ.)
					t.Errorf("as %s declaring %s, a failing condition on %s: %v, want division_by_zero", role, m, table, err)
				}
			}
		}
	}
	// Declared for A, the condition did fail on A's rows: it is evaluated when a row reaches it.
	if controls < 10 {
		t.Errorf("the failing condition failed on %d tables declared for A: the check proves nothing", controls)
	}
	t.Logf("a failing condition raised on %d tables declared for A, on none declared for B", controls)
}

// TestRowSecurityCannotBeDropped: no service role can switch row-level security off on a
// table, drop or loosen its policies, add one of its own, or become the owner or another
// role that could.
func TestRowSecurityCannotBeDropped(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{})
	owner := env.QueryText(t, `SELECT tableowner FROM pg_tables WHERE schemaname = 'intake' AND tablename = 'case'`)
	readable := readableTables(t, env)
	policies := policyNames(t, env)
	for _, role := range serviceRoles {
		pool := env.Pool(t, role)
		attempts := []string{
			"SET ROLE " + owner,
			"SET SESSION AUTHORIZATION " + owner,
			"SET ROLE postgres",
			"ALTER ROLE " + role + " BYPASSRLS",
			"CREATE ROLE attacker BYPASSRLS",
		}
		for _, table := range readable[role] {
			attempts = append(attempts,
				"ALTER TABLE "+table+" DISABLE ROW LEVEL SECURITY",
				"ALTER TABLE "+table+" NO FORCE ROW LEVEL SECURITY",
				"ALTER TABLE "+table+" OWNER TO "+role,
				"CREATE POLICY attacker ON "+table+" USING (true)",
			)
			for _, p := range policies[table] {
				attempts = append(attempts,
					"DROP POLICY "+p+" ON "+table,
					"ALTER POLICY "+p+" ON "+table+" USING (true)")
			}
		}
		for _, sql := range attempts {
			if err := tryAs(t.Context(), pool, sql); !isInsufficientPrivilege(err) {
				t.Errorf("as %s: %s: %v, want insufficient_privilege (42501)", role, sql, err)
			}
		}
	}
}

// TestRowSecurityHidesStatistics: the planner's statistics hold a column's most common
// values and their frequencies (the missions, and how many cases each has). Analysed by the
// owner, they are hidden from every service role on every table under row-level security.
func TestRowSecurityHidesStatistics(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	setUpVictimMission(t, env)
	env.ExecAsOwner(t, "ANALYZE")
	if n := env.QueryInt(t, `SELECT count(*) FROM pg_stats WHERE schemaname = 'intake' AND tablename = 'case' AND attname = 'mission'`); n == 0 {
		t.Fatal("the owner sees no statistics on intake.case: the check proves nothing")
	}
	// The control: a table without row-level security that the role reads (its outbox
	// cursor) shows its statistics, so the query below can see what it may.
	if n, err := countAfter(t.Context(), env.Pool(t, returns.Role), nil,
		`SELECT count(*) FROM pg_stats WHERE schemaname = 'returns' AND tablename = 'outbox_cursor'`); err != nil || n == 0 {
		t.Fatalf("passage_returns sees %d statistics rows of its own outbox cursor (%v): the check proves nothing", n, err)
	}
	for _, role := range serviceRoles {
		n, err := countAfter(t.Context(), env.Pool(t, role), []string{declare(database.MissionSetting, missionB)}, `SELECT count(*)
FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
WHERE c.relrowsecurity`)
		if err != nil || n != 0 {
			t.Errorf("as %s: %d statistics rows on tables under row-level security (%v), want none", role, n, err)
		}
	}
}

// TestDeclarationRefusesSQL: the services' own helper refuses to declare a mission or a
// consumer that is not a plain code, before anything reaches the database, since it writes
// the value into its BEGIN statement.
func TestDeclarationRefusesSQL(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{})
	db := database.NewDB(env.Pool(t, intake.Role))
	for _, value := range []string{missionA + "' OR '1'='1", missionA + "'; SET LOCAL row_security = off; --", "", "NER NER", "%"} {
		var n int
		err := db.Mission(value).QueryRow(t.Context(), `SELECT count(*) FROM intake."case"`).Scan(&n)
		if !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("Mission(%q): %v, want ErrUndeclared", value, err)
		}
		err = db.MissionTx(t.Context(), value, func(pgx.Tx) error { return nil })
		if !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("MissionTx(%q): %v, want ErrUndeclared", value, err)
		}
		_, err = db.OutboxConsumer(value).Exec(t.Context(), `SELECT 1`)
		if !errors.Is(err, database.ErrUndeclared) {
			t.Errorf("OutboxConsumer(%q): %v, want ErrUndeclared", value, err)
		}
	}
}

// countAfter runs setup then query (a count) in a transaction it rolls back.
func countAfter(ctx context.Context, db execer, setup []string, query string) (int, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, sql := range setup {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return 0, err
		}
	}
	var n int
	err = tx.QueryRow(ctx, query).Scan(&n)
	return n, err
}

// readableTables maps each service role to the mission tables it may SELECT (quoted), read as
// the owner: every table under row-level security but HQ's funds and hand-over data profiles
// (the hand-over service's, and intake's copy of their fields), which every declared mission
// reads by design, and the staff directory, which every service role reads whole by design
// (migration 000039; tested in internal/staffdir).
func readableTables(t *testing.T, env *testserver.Env) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		for _, role := range serviceRoles {
			rows, err := conn.Query(ctx, `
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relrowsecurity AND has_table_privilege($1, c.oid, 'SELECT')
  AND (n.nspname, c.relname) NOT IN (('hasm', 'fund'), ('handover', 'profile'), ('intake', 'handover_profile'),
    ('intake', 'staff_member'))
ORDER BY 1`, role)
			if err != nil {
				t.Fatal(err)
			}
			names, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			out[role] = names
		}
	})
	return out
}

// policyNames maps every table under row-level security to its policies' names (quoted).
func policyNames(t *testing.T, env *testserver.Env) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename), quote_ident(policyname) FROM pg_policies`)
		if err != nil {
			t.Fatal(err)
		}
		var table, name string
		if _, err := pgx.ForEachRow(rows, []any{&table, &name}, func() error {
			out[table] = append(out[table], name)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	if len(out) < 10 {
		t.Fatalf("policies on %d tables: the walk is broken", len(out))
	}
	return out
}

// visible counts the rows of table that pool's role sees with mission declared.
func visible(t *testing.T, pool *pgxpool.Pool, mission, table string) int {
	t.Helper()
	n, err := countAfter(t.Context(), pool, []string{declare(database.MissionSetting, mission)}, "SELECT count(*) FROM "+table)
	if err != nil && !isInsufficientPrivilege(err) {
		t.Fatalf("count %s declaring %s: %v", table, mission, err)
	}
	return n
}
