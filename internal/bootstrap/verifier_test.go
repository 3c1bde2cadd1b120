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

// TestTokenLifetimeFromConfig: PASSAGE_MAX_TOKEN_LIFETIME (Config.Server.MaxTokenLifetime)
// reaches the verifier; unset, the default of 12 h applies.
func TestTokenLifetimeFromConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(ttl time.Duration) string {
		tok, err := auth.MintToken(key, auth.DevIssuer, auth.Audience, auth.Claims{Subject: "staff-7f3a", Role: auth.RoleCaseworker, Mission: "NER"}, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	twoHours, twelveHours, day := mint(2*time.Hour), mint(12*time.Hour), mint(24*time.Hour)

	oneHour := Config{Dev: true, DevDir: dir}
	oneHour.Server.MaxTokenLifetime = time.Hour
	for _, tt := range []struct {
		name   string
		cfg    Config
		token  string
		accept bool
	}{
		{"default, 12 h", Config{Dev: true, DevDir: dir}, twelveHours, true},
		{"default, 24 h", Config{Dev: true, DevDir: dir}, day, false},
		{"1 h, 2 h", oneHour, twoHours, false},
	} {
		v, err := tokenVerifier(t.Context(), tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(t.Context(), tt.token)
		if tt.accept && err != nil {
			t.Errorf("%s: %v, want accepted", tt.name, err)
		}
		if !tt.accept && !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", tt.name, err)
		}
	}
}
