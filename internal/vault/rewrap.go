package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
)

// KEKUsage is how many vault rows each KEK key wraps. Unknown counts rows written before
// wrapping keys were recorded (migration 000009), which may use any key.
type KEKUsage struct {
	ByKey   map[uint32]int64
	Unknown int64
}

// CountKEKUsage counts the vault rows per wrapping KEK key (an index-only scan of
// identity_kek_key).
func CountKEKUsage(ctx context.Context, q database.Querier) (KEKUsage, error) {
	rows, err := q.Query(ctx, `SELECT kek_key_id, count(*) FROM vault.identity GROUP BY kek_key_id`)
	if err != nil {
		return KEKUsage{}, fmt.Errorf("vault: count KEK usage: %w", err)
	}
	u := KEKUsage{ByKey: map[uint32]int64{}}
	var id *int64
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		if id == nil {
			u.Unknown = n
		} else {
			u.ByKey[uint32(*id)] = n
		}
		return nil
	})
	if err != nil {
		return KEKUsage{}, fmt.Errorf("vault: count KEK usage: %w", err)
	}
	return u, nil
}

// CountWrappedBy counts the vault rows that may depend on KEK key id: those it wrapped, and
// those whose wrapping key is not recorded. Two index look-ups.
func CountWrappedBy(ctx context.Context, q database.Querier, id uint32) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM vault.identity WHERE kek_key_id = $1 OR kek_key_id IS NULL`, int64(id)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("vault: count rows wrapped by a KEK key: %w", err)
	}
	return n, nil
}

// RewrapProgress is reported after every batch.
type RewrapProgress struct {
	Rewrapped int64 // rows moved to the primary key so far
	Remaining int64 // rows not yet wrapped by the primary key
}

// Rewrap moves every data key not wrapped by the keyring's current primary KEK key to it,
// in batches of batchSize rows, each its own short transaction: registrations and reads go
// on meanwhile, and rows locked by a running call are skipped and picked up by a later
// pass. It returns when no row is left on another key (rows written concurrently by a
// process that has not yet loaded the rotated keyset are caught by the next pass, so it loops
// until the count is zero), or when ctx ends. progress, if not nil, is called after each
// batch.
func Rewrap(ctx context.Context, pool *pgxpool.Pool, keys *Keyring, batchSize int, progress func(RewrapProgress)) (RewrapProgress, error) {
	var p RewrapProgress
	others := otherKeys(keys)
	count := func() error {
		// Counted in full only at the start and when a batch comes back short, not after
		// every batch: a full count costs as much as the rows left.
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM vault.identity WHERE kek_key_id = ANY($1) OR kek_key_id IS NULL`,
			others).Scan(&p.Remaining); err != nil {
			return fmt.Errorf("vault: count rows to re-wrap: %w", err)
		}
		return nil
	}
	if err := count(); err != nil {
		return p, err
	}
	for {
		if p.Remaining == 0 {
			// Confirm: rows may have been added meanwhile by a process still on an old key,
			// and a transaction running now may still add one (its data key wrapped before
			// the rotated keyset was loaded): wait until every transaction running now has
			// ended, then count again. A writer that starts later re-wraps its entries first
			// (Keyring.Rewrapped).
			if err := awaitRunning(ctx, pool); err != nil {
				return p, err
			}
			if err := count(); err != nil || p.Remaining == 0 {
				return p, err
			}
		}
		n, err := rewrapBatch(ctx, pool, keys, others, batchSize)
		if err != nil {
			return p, err
		}
		p.Rewrapped += int64(n)
		p.Remaining = max(p.Remaining-int64(n), 0)
		if n < batchSize && p.Remaining > 0 {
			// Short: the rest is locked by running calls, or was erased or re-wrapped by
			// someone else. Count again.
			if err := count(); err != nil {
				return p, err
			}
			if p.Remaining > 0 && n == 0 {
				if err := sleep(ctx); err != nil {
					return p, err
				}
			}
		}
		if progress != nil {
			progress(p)
		}
	}
}

// awaitRunning returns once every transaction that had written when it was called has ended.
// It takes a transaction id of its own, newer than all of theirs, and waits until the oldest
// transaction still running is newer than that. (A snapshot's xmax will not do: it follows the
// last transaction to end, not the last to start, so a writer still running may be past it.)
func awaitRunning(ctx context.Context, pool *pgxpool.Pool) error {
	var mark string
	if err := pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&mark); err != nil {
		return fmt.Errorf("vault: take a transaction id: %w", err)
	}
	for {
		var done bool
		if err := pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8`, mark).Scan(&done); err != nil {
			return fmt.Errorf("vault: wait for running transactions: %w", err)
		}
		if done {
			return nil
		}
		if err := sleep(ctx); err != nil {
			return err
		}
	}
}

// otherKeys returns the KEK's non-primary key ids, as the bigint the column holds. Rows are
// looked up by these ids (index scans) rather than by "not the primary" (a full scan).
func otherKeys(keys *Keyring) []int64 {
	primary := keys.KEKPrimary()
	var out []int64
	for _, id := range keys.KEKKeyIDs() {
		if id != primary {
			out = append(out, int64(id))
		}
	}
	return out
}

// rewrapBatch re-wraps up to limit rows wrapped by one of others (or by an unrecorded key),
// in one transaction. pool is the owner's (a superuser or BYPASSRLS role, as for migrations):
// re-wrapping is every mission's at once, and it reads and writes wrapped keys only.
func rewrapBatch(ctx context.Context, pool *pgxpool.Pool, keys *Keyring, others []int64, limit int) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `SELECT subject_id, wrapped_key FROM vault.identity
WHERE kek_key_id = ANY($1) OR kek_key_id IS NULL LIMIT $2 FOR UPDATE SKIP LOCKED`, others, limit)
		if err != nil {
			return fmt.Errorf("vault: read rows to re-wrap: %w", err)
		}
		var subjects []uuid.UUID
		var wrapped [][]byte
		var id uuid.UUID
		var w []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &w}, func() error {
			subjects, wrapped = append(subjects, id), append(wrapped, append([]byte(nil), w...))
			return nil
		}); err != nil {
			return fmt.Errorf("vault: read rows to re-wrap: %w", err)
		}
		keyIDs := make([]int64, len(subjects))
		for i, s := range subjects {
			nw, kid, err := keys.Rewrap(s, wrapped[i])
			if err != nil {
				// The subject id only: random, and what an operator needs to look further.
				return fmt.Errorf("vault: re-wrap the data key of subject %s: %w", s, err)
			}
			wrapped[i], keyIDs[i] = nw, int64(kid)
		}
		if len(subjects) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE vault.identity v SET wrapped_key = t.w, kek_key_id = t.k
FROM unnest($1::uuid[], $2::bytea[], $3::bigint[]) AS t(s, w, k) WHERE v.subject_id = t.s`,
			subjects, wrapped, keyIDs); err != nil {
			return fmt.Errorf("vault: write re-wrapped keys: %w", err)
		}
		n = len(subjects)
		return nil
	})
	return n, err
}

// rewrapRetry is how long Rewrap waits when every remaining row is locked.
const rewrapRetry = 50 * time.Millisecond

func sleep(ctx context.Context) error {
	t := time.NewTimer(rewrapRetry)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
