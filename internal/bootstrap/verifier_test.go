package bootstrap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/passage-cm/passage/internal/auth"
)

// TestDevKeyOnlyInDevelopment: a development key on the host (say a .passage folder copied
// to a server) signs tokens the server accepts in development and refuses otherwise.
func TestDevKeyOnlyInDevelopment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	devKey, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	idpKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := jwkset.NewJWKFromKey(idpKey.Public(), jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgES256, USE: jwkset.UseSig},
	})
	if err != nil {
		t.Fatal(err)
	}
	set := jwkset.NewMemoryStorage()
	if err := set.KeyWrite(t.Context(), jwk); err != nil {
		t.Fatal(err)
	}
	body, err := set.JSONPublic(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(idp.Close)

	const issuer = "https://idp.example/realms/passage"
	claims := auth.Claims{Subject: "staff-7f3a", Role: auth.RoleCaseworker, Mission: "NER"}
	devToken, err := auth.MintToken(devKey, auth.DevIssuer, auth.Audience, claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Even naming the production issuer, the development key's signature is not trusted.
	devAsIdP, err := auth.MintToken(devKey, issuer, auth.Audience, claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	idpToken, err := auth.MintToken(idpKey, issuer, auth.Audience, claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	dev, err := tokenVerifier(t.Context(), Config{Dev: true, DevDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Verify(t.Context(), devToken); err != nil {
		t.Errorf("development mode, development token: %v", err)
	}

	prod, err := tokenVerifier(t.Context(), Config{DevDir: dir, JWKSURL: idp.URL, TokenIssuer: issuer, TokenAudience: auth.Audience})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"development token": devToken, "development key, production issuer": devAsIdP} {
		if _, err := prod.Verify(t.Context(), tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("outside development, %s: %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := prod.Verify(t.Context(), idpToken); err != nil {
		t.Errorf("outside development, identity provider's token: %v", err)
	}
}
