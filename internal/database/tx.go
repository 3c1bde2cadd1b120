package database

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxAttempts bounds how often InTx runs a transaction that lost a serialization race or
// could not reach Postgres before sending anything.
const maxAttempts = 5

// retryPause is the pause before the second attempt of a transaction; it doubles for each
// further attempt (10, 20, 40, 80 ms: at most 150 ms in all).
const retryPause = 10 * time.Millisecond

// inTx runs fn in a transaction and commits it, or rolls it back when fn fails. Services reach
// it through DB.MissionTx, which declares the mission first.
//
// It runs the transaction again from the start, at most maxAttempts times in all, when that
// is safe because nothing was applied: a serialization failure or deadlock, or a connection
// that failed before anything was sent (a pooled connection that died while idle). fn must
// therefore do nothing outside the transaction that cannot be repeated.
//
// A failure is classified by where it happened (see Classify): a connection lost before
// COMMIT was sent leaves nothing applied, because Postgres rolls back every transaction whose
// session ends; one lost while COMMIT was in flight leaves the outcome unknown.
func inTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	var err error
	pause := retryPause
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = attemptTx(ctx, pool, opts, fn)
		forgetIfLost(pool, err)
		if err == nil || !retryInTx(err) || ctx.Err() != nil {
			return err
		}
		if attempt < maxAttempts {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return err
			}
			pause *= 2
		}
	}
	return fmt.Errorf("database: transaction failed %d times: %w", maxAttempts, err)
}

// attemptTx is one attempt of inTx.
func attemptTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		// Rollback's own failure adds nothing: a transaction not committed is rolled back
		// when its connection goes.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return NothingApplied(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	return nil
}

// retryInTx reports whether a failed attempt may be run again as it is: a lost race, or a
// connection that failed with nothing applied.
func retryInTx(err error) bool {
	if retryable(err) {
		return true
	}
	f, ok := Classify(err)
	return ok && f.Kind == Unreachable && f.Outcome == NotApplied && !errors.Is(err, context.DeadlineExceeded)
}
