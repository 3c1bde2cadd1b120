package kms

import (
	"bytes"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/kms/kmstest"
)

func TestAEADFromARegisteredClient(t *testing.T) {
	uri := kmstest.KeyURI(t)
	a, err := AEAD(uri)
	if err != nil {
		t.Fatalf("AEAD: %v", err)
	}
	ct, err := a.Encrypt([]byte("keyset"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := a.Decrypt(ct, []byte("ad")); err != nil || !bytes.Equal(pt, []byte("keyset")) {
		t.Fatalf("round trip: %q, %v", pt, err)
	}
}

// TestAEADErrorsDoNotEchoTheURI: a key URI can carry credentials or, for the fake KMS, the
// key itself; errors name the scheme only.
func TestAEADErrorsDoNotEchoTheURI(t *testing.T) {
	for _, uri := range []string{"", "nokms://secret-key-material", "secret-without-scheme"} {
		_, err := AEAD(uri)
		if err == nil {
			t.Errorf("AEAD(%q) succeeded", uri)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("AEAD(%q) error echoes the URI: %v", uri, err)
		}
	}
}

// TestHCVaultIsBuiltIn: hcvault:// URIs find their client without registration (the key
// manager is not reached until a key is used).
func TestHCVaultIsBuiltIn(t *testing.T) {
	t.Setenv("VAULT_ADDR", "https://127.0.0.1:1")
	t.Setenv("VAULT_TOKEN", "test")
	if _, err := AEAD("hcvault://127.0.0.1:1/transit/keys/passage"); err != nil {
		t.Fatalf("hcvault: %v", err)
	}
}
