package database

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxAttempts bounds how often InTx runs a transaction that lost a serialization race.
const maxAttempts = 5

// inTx runs fn in a transaction and commits it, or rolls it back when fn fails. A
// transaction that fails with a serialization failure or a deadlock is run again from the
// start, so fn must do nothing outside the transaction that cannot be repeated. Services reach
// it through DB.MissionTx, which declares the mission first.
func inTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = pgx.BeginTxFunc(ctx, pool, opts, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("database: transaction kept losing races after %d attempts: %w", maxAttempts, err)
}
