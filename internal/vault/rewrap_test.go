package vault_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// TestRewrapCatchesStaleWriters: after a rotation, a process that has not reloaded yet keeps
// wrapping with the old key. Rows it writes while the re-wrap runs are re-wrapped too, so
// that the old key really is unused when Rewrap returns.
func TestRewrapCatchesStaleWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	dir := t.TempDir()
	current, err := vault.LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := vault.DevKeyringFiles(dir).Load() // a second process, on the same keys
	if err != nil {
		t.Fatal(err)
	}
	oldKey := current.KEKPrimary()
	put := func(k *vault.Keyring, n int) {
		entries := make([]vault.Entry, n)
		for i := range entries {
			id := uuid.New()
			s, err := k.Seal(id, &commonv1.Person{GivenName: "Stale", Nationality: "NER"})
			if err != nil {
				t.Fatal(err)
			}
			entries[i] = vault.Entry{SubjectID: id, Sealed: s}
		}
		b := &pgx.Batch{}
		vault.QueuePut(b, "NER", entries)
		if err := pool.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
	}
	put(current, 10)

	rotateInMemory(t, dir, current)
	writes := 0
	got, err := vault.Rewrap(ctx, pool, current, 3, func(vault.RewrapProgress) {
		if writes < 3 { // the stale process writes while the re-wrap runs
			put(stale, 2)
			writes++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Rewrapped != 16 || got.Remaining != 0 {
		t.Fatalf("rewrap = %+v, want 16 re-wrapped, 0 remaining", got)
	}
	if n, err := vault.CountWrappedBy(ctx, pool, oldKey); err != nil || n != 0 {
		t.Fatalf("rows on the old key: %d, %v", n, err)
	}
}

// rotateInMemory gives keys a new primary KEK key, rotated from the development KEK keyset
// under dir, without writing the file.
func rotateInMemory(tb testing.TB, dir string, keys *vault.Keyring) {
	tb.Helper()
	h, err := vault.DevKeyringFiles(dir).KEK.Read()
	if err != nil {
		tb.Fatal(err)
	}
	rotated, _, err := vault.RotateKEK(h)
	if err != nil {
		tb.Fatal(err)
	}
	if err := keys.SetKEK(rotated); err != nil {
		tb.Fatal(err)
	}
}
