package vault_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
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
		var st database.Statement
		vault.AddPut(&st, "NER", entries)
		b := &pgx.Batch{}
		st.Queue(b)
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

// TestRewrapWaitsForRunningWriters: a transaction that inserted a row on the old key and has
// not committed when every committed row is re-wrapped holds Rewrap back; once it commits,
// Rewrap moves its row too, and returns with nothing left on the old key. Without the wait
// Rewrap returned at once, leaving the late row behind.
func TestRewrapWaitsForRunningWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	dir := t.TempDir()
	keys, err := vault.LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	oldKey := keys.KEKPrimary()
	id := uuid.New()
	sealed, err := keys.Seal(id, &commonv1.Person{GivenName: "Late", Nationality: "NER"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var st database.Statement
	vault.AddPut(&st, "NER", []vault.Entry{{SubjectID: id, Sealed: sealed}})
	b := &pgx.Batch{}
	st.Queue(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}

	rotateInMemory(t, dir, keys)
	done := make(chan error, 1)
	go func() {
		_, err := vault.Rewrap(ctx, pool, keys, 10, nil)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Rewrap returned (%v) while a writer on the old key was still running", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := vault.CountWrappedBy(ctx, pool, oldKey); err != nil || n != 0 {
		t.Fatalf("rows on the old key: %d, %v", n, err)
	}
}

// TestRewrappedMovesEntriesToThePrimary: entries sealed before a rotation are re-wrapped by
// the new primary before they are written (their identity opens as before); entries already
// on it are left as they are.
func TestRewrappedMovesEntriesToThePrimary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keys, err := vault.LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	person := &commonv1.Person{GivenName: "Before", Nationality: "NER"}
	before, after := uuid.New(), uuid.New()
	early, err := keys.Seal(before, person)
	if err != nil {
		t.Fatal(err)
	}
	rotateInMemory(t, dir, keys)
	late, err := keys.Seal(after, person)
	if err != nil {
		t.Fatal(err)
	}
	entries := []vault.Entry{{SubjectID: before, Sealed: early}, {SubjectID: after, Sealed: late}}
	if err := keys.Rewrapped(entries); err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		if e.Sealed.KEKKeyID != keys.KEKPrimary() {
			t.Errorf("entry %d on KEK key %d, want the primary %d", i, e.Sealed.KEKKeyID, keys.KEKPrimary())
		}
		got, err := keys.Open(e.SubjectID, e.Sealed)
		if err != nil || got.GetGivenName() != "Before" {
			t.Errorf("entry %d opens as %v, %v", i, got, err)
		}
	}
	if !bytes.Equal(entries[1].Sealed.WrappedKey, late.WrappedKey) {
		t.Error("an entry already on the primary was wrapped again")
	}
	if !bytes.Equal(entries[0].Sealed.Ciphertext, early.Ciphertext) {
		t.Error("the identity ciphertext changed: only the data key's wrapping should")
	}
}
