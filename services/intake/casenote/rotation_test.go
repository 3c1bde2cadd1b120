package casenote_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/passage-cm/passage/internal/vault"
)

// TestNotesSurviveKeyRotation: a note is sealed with its person's data key, not with the KEK,
// so rotating the KEK, re-wrapping every data key and retiring the old KEK key leaves it
// readable (the data key itself never changes).
func TestNotesSurviveKeyRotation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t)
	n := b.add(t, b.assigned, c, "Sealed before the rotation.", normal)

	owner, err := pgxpool.New(context.Background(), b.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	old := b.env.Keys.KEKPrimary()
	h, err := b.env.KeyFiles.KEK.Read()
	if err != nil {
		t.Fatal(err)
	}
	rotated, _, err := vault.RotateKEK(h)
	if err != nil {
		t.Fatal(err)
	}
	reload := func(h *keyset.Handle) {
		t.Helper()
		if err := b.env.KeyFiles.KEK.Write(h); err != nil {
			t.Fatal(err)
		}
		if changed, err := b.env.KeyFiles.ReloadKEK(b.env.Keys); err != nil || !changed {
			t.Fatalf("reload: %v, %v", changed, err)
		}
	}
	reload(rotated)
	if _, err := vault.Rewrap(context.Background(), owner, b.env.Keys, 10, nil); err != nil {
		t.Fatalf("rewrap: %v", err)
	}
	retired, err := vault.RetireKEK(rotated, old)
	if err != nil {
		t.Fatal(err)
	}
	reload(retired)

	got, err := b.get(b.assigned, n.GetNoteId(), false)
	if err != nil || got.GetText() != "Sealed before the rotation." {
		t.Fatalf("read after the rotation: %v, %v", got, err)
	}
}
