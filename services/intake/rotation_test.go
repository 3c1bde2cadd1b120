package intake_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// TestRotationUnderLoad rotates the KEK and re-wraps every data key while caseworkers keep
// registering cases, then retires the old key: no registration fails, every identity
// written before, during and after still opens, and none is left on the retired key.
func TestRotationUnderLoad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	owner := ownerPool(t, b.env.AdminURL)

	const preload = 40
	for i := range preload {
		b.register(t, registration(person(i)))
	}
	oldKey := b.env.Keys.KEKPrimary()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var registered atomic.Int64
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := b.client.RegisterCase(b.worker, registration(person(1000*(w+1)+i))); err != nil {
					errs <- err
					return
				}
				registered.Add(1)
			}
		}()
	}

	waitFor(t, func() bool { return registered.Load() >= 8 })
	h, err := b.env.KeyFiles.KEK.Read()
	if err != nil {
		t.Fatal(err)
	}
	rotated, newKey, err := vault.RotateKEK(h)
	if err != nil {
		t.Fatal(err)
	}
	writeAndReload(t, b.env, rotated)
	var batches int
	if _, err := vault.Rewrap(ctx, owner, b.env.Keys, 7, func(vault.RewrapProgress) { batches++ }); err != nil {
		t.Fatalf("rewrap: %v", err)
	}
	during := registered.Load()
	waitFor(t, func() bool { return registered.Load() >= during+8 }) // and after
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a registration failed during the rotation: %v", err)
	}
	if batches < 2 {
		t.Errorf("rewrap ran in %d batch(es); the test wants it to interleave with registrations", batches)
	}

	if n, err := vault.CountWrappedBy(ctx, owner, oldKey); err != nil || n != 0 {
		t.Fatalf("rows on the old key after rewrap: %d, %v", n, err)
	}
	retired, err := vault.RetireKEK(rotated, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	writeAndReload(t, b.env, retired)

	total := preload + int(registered.Load())
	t.Logf("%d preloaded, %d registered by 4 caseworkers around the rotation, rewrap in %d batches", preload, registered.Load(), batches)
	if n := b.env.Count(t, "vault.identity"); n != total {
		t.Fatalf("vault.identity has %d rows, want %d", n, total)
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM vault.identity WHERE kek_key_id = $1`, int64(newKey)); n != total {
		t.Fatalf("%d of %d rows on the new key", n, total)
	}
	rows, err := owner.Query(ctx, `SELECT subject_id, wrapped_key, identity FROM vault.identity`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	opened := 0
	for rows.Next() {
		var id uuid.UUID
		var s vault.Sealed
		if err := rows.Scan(&id, &s.WrappedKey, &s.Ciphertext); err != nil {
			t.Fatal(err)
		}
		if _, err := b.env.Keys.Open(id, s); err != nil {
			t.Fatalf("an identity no longer opens after retirement: %v", err)
		}
		opened++
	}
	if rows.Err() != nil || opened != total {
		t.Fatalf("opened %d of %d: %v", opened, total, rows.Err())
	}
}

// person is a distinct adult per n, so that no registration is a duplicate of another.
func person(n int) *commonv1.Person {
	p := amina()
	p.GivenName = "Load" + uuid.NewSHA1(uuid.Nil, []byte{byte(n >> 8), byte(n)}).String()[:8]
	p.Documents[0].Number = uuid.NewSHA1(uuid.Nil, []byte{1, byte(n >> 8), byte(n)}).String()[:9]
	return p
}
