package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
)

// jwksBody returns the public JWK Set of the keys, by kid.
func jwksBody(t *testing.T, keys map[string]*ecdsa.PrivateKey) []byte {
	t.Helper()
	set := jwkset.NewMemoryStorage()
	for kid, key := range keys {
		jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgES256, USE: jwkset.UseSig},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := set.KeyWrite(t.Context(), jwk); err != nil {
			t.Fatal(err)
		}
	}
	body, err := set.JSONPublic(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestJWKSRotation rotates the identity provider's signing key: a token signed with the new
// key id is accepted at once (the unknown kid triggers a refetch, no restart, no hourly
// wait), and once the old key is withdrawn from the set, its tokens are refused.
func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	k1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var body atomic.Pointer[[]byte]
	first := jwksBody(t, map[string]*ecdsa.PrivateKey{"k1": k1})
	body.Store(&first)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*body.Load())
	}))
	t.Cleanup(srv.Close)

	const issuer = "https://idp.example/realms/passage"
	v, err := NewJWKSVerifier(t.Context(), srv.URL, issuer, Audience)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	fromIdP := func(c *tokenClaims) { c.Issuer = issuer }
	old := sign(t, k1, "k1", exp, fromIdP)
	if _, err := v.Verify(t.Context(), old); err != nil {
		t.Fatalf("token of the current key: %v", err)
	}

	// The provider publishes k2 and withdraws k1.
	rotated := jwksBody(t, map[string]*ecdsa.PrivateKey{"k2": k2})
	body.Store(&rotated)
	before := fetches.Load()
	if _, err := v.Verify(t.Context(), sign(t, k2, "k2", exp, fromIdP)); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if fetches.Load() == before {
		t.Error("the new kid was accepted without fetching the key set")
	}
	if _, err := v.Verify(t.Context(), old); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of the withdrawn key: %v, want ErrInvalidToken", err)
	}
}
