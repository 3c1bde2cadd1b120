package testserver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// HoldInserts lines up racing calls, so that a test can make a retry lose the race for its
// idempotency key every time rather than now and then. It takes a SHARE lock on table (a
// service's idempotency table) as the database owner: the calls' reads go through, so each
// finds no first result and goes on to write, and their inserts wait. The returned release
// waits until n backends are waiting on the table, then lets them all go at once: the first
// to insert the key commits, and every other's insert fails with the key's unique violation,
// which the handler must turn into the first one's result. table is the test's own, never input.
func (e *Env) HoldInserts(t testing.TB, table string) (release func(n int)) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.AdminURL)
	if err != nil {
		t.Fatalf("connect as owner: %v", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatalf("hold %s: %v", table, err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+table+" IN SHARE MODE"); err != nil {
		t.Fatalf("hold %s: %v", table, err)
	}
	done := false
	let := func() {
		if done {
			return
		}
		done = true
		_ = tx.Rollback(ctx) // it wrote nothing; closing the connection ends it all the same
		_ = conn.Close(ctx)
	}
	t.Cleanup(let) // a test that fails before releasing must not leave its calls waiting
	return func(n int) {
		t.Helper()
		defer let()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var waiting int
			// pg_locks is the whole cluster's, and the tests' databases are clones of one
			// template, whose tables have the same oids in each: count this database's only.
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_locks
WHERE locktype = 'relation' AND relation = $1::regclass AND NOT granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, table).Scan(&waiting); err != nil {
				t.Fatalf("calls waiting on %s: %v", table, err)
			}
			if waiting >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d calls waiting on %s after 30s", waiting, n, table)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// Race runs the calls at once, each past its look-up of a first result before any of them
// writes into table (see HoldInserts), so that all but one lose the race for their request id;
// it returns each call's result and error, in the calls' order.
func Race[T any](t testing.TB, e *Env, table string, calls ...func() (T, error)) ([]T, []error) {
	t.Helper()
	release := e.HoldInserts(t, table)
	results, errs := make([]T, len(calls)), make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { results[i], errs[i] = call() })
	}
	release(len(calls))
	wg.Wait()
	return results, errs
}

// WantAlike fails the test unless every call succeeded with the same answer: what retries of
// one request get, however they raced.
func WantAlike[T proto.Message](t testing.TB, results []T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racing call %d: %v", i, err)
		}
	}
	for i := 1; i < len(results); i++ {
		if diff := cmp.Diff(results[0], results[i], protocmp.Transform()); diff != "" {
			t.Errorf("racing call %d answered otherwise than the first (-first +this):\n%s", i, diff)
		}
	}
}

// WantOneThrough fails the test unless exactly one call succeeded and every other was refused
// with INVALID_ARGUMENT naming request_id: what different requests racing under one request id
// get.
func WantOneThrough(t testing.TB, errs []error) {
	t.Helper()
	through := 0
	for _, err := range errs {
		if err == nil {
			through++
			continue
		}
		if diff := cmp.Diff([]string{"request_id"}, FieldViolations(WantCode(t, err, codes.InvalidArgument))); diff != "" {
			t.Errorf("field violations (-want +got):\n%s", diff)
		}
	}
	if through != 1 {
		t.Errorf("%d of %d requests went through, want 1 (%v)", through, len(errs), errs)
	}
}
