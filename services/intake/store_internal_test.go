package intake

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestDuplicateSearchKeepsItsGenericPlan: the duplicate search runs its prepared statement's
// generic plan on every call. Left to itself, the plan cache plans the first five calls of
// each connection afresh and, once the mission's tables hold data, every call after them too,
// since the generic plan's estimate for ten digests exceeds the custom plans' for two to six
// (0.3 ms of Postgres time per registration in the bench).
func TestDuplicateSearchKeepsItsGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := database.Open(ctx, database.PoolConfig{AdminURL: pgtest.New(t), Role: Role, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for range 8 {
		digests := make([][]byte, 3)
		for i := range digests {
			digests[i] = make([]byte, 32)
			_, _ = rand.Read(digests[i])
		}
		var matches []match
		b := &pgx.Batch{}
		database.QueueMission(b, "NER")
		queueFindMatches(b, "NER", digests, &matches)
		if err := pool.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
	}
	// One connection: the prepared statement and its plan counts are that session's.
	rows, _ := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	var statement string
	var generic, custom int64
	found := false
	if _, err := pgx.ForEachRow(rows, []any{&statement, &generic, &custom}, func() error {
		if strings.Contains(statement, "WITH hits AS MATERIALIZED") {
			found = true
			if custom != 0 || generic != 8 {
				t.Errorf("duplicate search: %d generic and %d custom plans, want 8 and 0", generic, custom)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatal("the duplicate search is not among the connection's prepared statements")
	}
}
