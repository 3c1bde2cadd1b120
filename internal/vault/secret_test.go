package vault

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"
)

// TestSealSecret: a sealed secret opens for its owner and purpose only, never holds the
// secret in clear, and names the KEK key that sealed it.
func TestSealSecret(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	owner, other := uuid.New(), uuid.New()
	secret := []byte("whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==")
	sealed, kek, err := k.SealSecret(owner, "webhook", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) || kek != k.KEKPrimary() {
		t.Fatalf("sealed holds the secret in clear, or names key %d, not the primary %d", kek, k.KEKPrimary())
	}
	got, err := k.OpenSecret(owner, "webhook", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open: %v", err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"another owner":   func() ([]byte, error) { return k.OpenSecret(other, "webhook", sealed) },
		"another purpose": func() ([]byte, error) { return k.OpenSecret(owner, "other", sealed) },
		"tampered": func() ([]byte, error) {
			bad := bytes.Clone(sealed)
			bad[len(bad)-1] ^= 1
			return k.OpenSecret(owner, "webhook", bad)
		},
	} {
		if _, err := open(); !errors.Is(err, ErrUndecryptable) {
			t.Errorf("%s: %v, want ErrUndecryptable", name, err)
		}
	}
	if _, _, err := k.SealSecret(uuid.Nil, "webhook", secret); err == nil {
		t.Error("sealed for no owner")
	}
}
