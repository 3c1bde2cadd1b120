package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// verifyCase is a token and the claims Verify returns for it.
type verifyCase struct {
	name  string
	token string
	want  Claims // zero: the token must be refused
}

// verifyAll verifies each case's token with verifier, in a subtest of its own.
func verifyAll(t *testing.T, verifier Verifier, tests []verifyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := verifier.Verify(t.Context(), tt.token)
			if tt.want == (Claims{}) {
				if !errors.Is(err, ErrInvalidToken) {
					t.Errorf("Verify() error = %v, want ErrInvalidToken", err)
				}
			} else if err != nil {
				t.Fatalf("Verify() unexpected error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Verify() claims mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeyVerifier(t *testing.T) {
	t.Parallel()

	key := newKey(t)
	otherKey := newKey(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	verifier := NewKeyVerifier(key.Public(), DevIssuer, Audience)

	valid := sign(t, key, "", exp, nil)
	b64 := base64.RawURLEncoding

	tests := []verifyCase{
		{
			name:  "valid dev token",
			token: valid,
			want:  Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: exp},
		},
		{
			name: "sub-office mission",
			token: sign(t, key, "", exp, func(c *tokenClaims) {
				c.Role, c.Mission = string(RoleSupervisor), "NER-AGADEZ"
			}),
			want: Claims{Subject: "staff-7f3a", Role: RoleSupervisor, Mission: "NER-AGADEZ", ExpiresAt: exp},
		},
		{
			name: "HQ analyst",
			token: sign(t, key, "", exp, func(c *tokenClaims) {
				c.Role, c.Mission = string(RoleAnalyst), MissionHQ
			}),
			want: Claims{Subject: "staff-7f3a", Role: RoleAnalyst, Mission: MissionHQ, ExpiresAt: exp},
		},
		{
			name: "partner agency without a mission",
			token: sign(t, key, "", exp, func(c *tokenClaims) {
				c.Role, c.Mission, c.Partner = string(RolePartner), "", "0b4c1a52-7d3e-4f60-9a8b-2c1d0e9f8a7b"
			}),
			want: Claims{Subject: "staff-7f3a", Role: RolePartner, Partner: "0b4c1a52-7d3e-4f60-9a8b-2c1d0e9f8a7b", ExpiresAt: exp},
		},
		{
			name: "partner claim on staff",
			token: sign(t, key, "", exp, func(c *tokenClaims) {
				c.Role, c.Partner = string(RoleCaseworker), "0b4c1a52-7d3e-4f60-9a8b-2c1d0e9f8a7b"
			}),
		},
		{
			name: "partner claim not a partner id",
			token: sign(t, key, "", exp, func(c *tokenClaims) {
				c.Role, c.Mission, c.Partner = string(RolePartner), "", "UNHCR' OR 1=1"
			}),
		},
		{
			name: "partner without a partner claim nor a mission",
			token: sign(t, key, "", exp, func(c *tokenClaims) {
				c.Role, c.Mission = string(RolePartner), ""
			}),
		},
		{
			name:  "expired",
			token: sign(t, key, "", time.Now().Add(-time.Hour), nil),
		},
		{
			name:  "no expiry",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.ExpiresAt = nil }),
		},
		{
			name:  "wrong audience",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Audience = jwt.ClaimStrings{"someone-else"} }),
		},
		{
			name:  "no audience",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Audience = nil }),
		},
		{
			name:  "wrong issuer",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Issuer = "https://evil.example" }),
		},
		{
			name:  "issued in the future",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(time.Now().Add(10 * time.Minute)) }),
		},
		{
			name:  "not yet valid",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(10 * time.Minute)) }),
		},
		{
			name:  "tampered signature",
			token: tamperSignature(t, valid),
		},
		{
			name:  "tampered payload (role escalation)",
			token: replacePayload(t, valid, `{"iss":"passage-dev","sub":"staff-7f3a","aud":["passage"],"exp":9999999999,"role":"admin","mission":"HQ"}`),
		},
		{
			name:  "signed by another key",
			token: sign(t, otherKey, "", exp, nil),
		},
		{
			name: "alg none",
			token: b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
				b64.EncodeToString([]byte(`{"iss":"passage-dev","sub":"staff-7f3a","aud":"passage","exp":9999999999,"role":"admin","mission":"HQ"}`)) + ".",
		},
		{
			name:  "HS256 keyed with raw public key bytes",
			token: hmacToken(t, []byte(key.Public().(ed25519.PublicKey)), exp),
		},
		{
			name:  "HS256 keyed with PEM public key",
			token: hmacToken(t, publicKeyPEM(t, key.Public()), exp),
		},
		{
			name:  "missing subject",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Subject = "" }),
		},
		{
			name:  "missing role",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Role = "" }),
		},
		{
			name:  "unknown role",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Role = "superuser" }),
		},
		{
			name:  "missing mission",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Mission = "" }),
		},
		{
			name:  "lower-case mission",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Mission = "ner" }),
		},
		{
			name:  "mission not a country code",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Mission = "NIGER" }),
		},
		{
			name:  "HQ mission for a field role",
			token: sign(t, key, "", exp, func(c *tokenClaims) { c.Mission = MissionHQ }),
		},
		{
			name:  "garbage",
			token: "not-a-jwt",
		},
		{
			name:  "empty",
			token: "",
		},
		{
			name:  "oversized",
			token: valid + strings.Repeat("A", maxTokenBytes),
		},
	}
	verifyAll(t, verifier, tests)
}

// A verifier that cannot be configured correctly must refuse every token,
// including ones that are otherwise good.
func TestKeyVerifierFailsClosed(t *testing.T) {
	t.Parallel()

	key := newKey(t)
	token := sign(t, key, "", time.Now().Add(time.Hour), nil)

	tests := []struct {
		name     string
		verifier Verifier
	}{
		{"private key passed as public", NewKeyVerifier(key, DevIssuer, Audience)},
		{"nil key", NewKeyVerifier(nil, DevIssuer, Audience)},
		{"empty issuer", NewKeyVerifier(key.Public(), "", Audience)},
		{"empty audience", NewKeyVerifier(key.Public(), DevIssuer, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.verifier.Verify(t.Context(), token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify() error = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestKeyVerifierECDSA(t *testing.T) {
	t.Parallel()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	got, err := NewKeyVerifier(key.Public(), DevIssuer, Audience).Verify(t.Context(), sign(t, key, "", exp, nil))
	if err != nil {
		t.Fatalf("Verify() unexpected error: %v", err)
	}
	want := Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: exp}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify() claims mismatch (-want +got):\n%s", diff)
	}
}

func TestJWKSVerifier(t *testing.T) {
	t.Parallel()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveJWKS(t, key, "k1")

	const issuer = "https://idp.example/realms/passage"
	verifier, err := NewJWKSVerifier(t.Context(), srv.URL, issuer, Audience)
	if err != nil {
		t.Fatalf("NewJWKSVerifier: %v", err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	fromIdP := func(c *tokenClaims) { c.Issuer = issuer }

	tests := []verifyCase{
		{
			name:  "valid ES256 token",
			token: sign(t, key, "k1", exp, fromIdP),
			want:  Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: exp},
		},
		{
			name:  "valid token without kid",
			token: sign(t, key, "", exp, fromIdP),
			want:  Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: exp},
		},
		{
			name:  "unknown kid",
			token: sign(t, otherKey, "k2", exp, fromIdP),
		},
		{
			name:  "known kid, other key",
			token: sign(t, otherKey, "k1", exp, fromIdP),
		},
		{
			name:  "dev issuer",
			token: sign(t, key, "k1", exp, nil),
		},
		{
			name:  "HS256 keyed with PEM public key",
			token: hmacToken(t, publicKeyPEM(t, key.Public()), exp),
		},
		{
			name:  "expired",
			token: sign(t, key, "k1", time.Now().Add(-time.Hour), fromIdP),
		},
		{
			name: "not yet valid",
			token: sign(t, key, "k1", exp, func(c *tokenClaims) {
				fromIdP(c)
				c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
			}),
		},
		{
			name: "wrong audience",
			token: sign(t, key, "k1", exp, func(c *tokenClaims) {
				fromIdP(c)
				c.Audience = jwt.ClaimStrings{"partner-portal"}
			}),
		},
		{
			name: "alg none",
			token: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`)) + "." +
				base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+issuer+`","sub":"staff-7f3a","aud":"passage","exp":9999999999,"role":"admin","mission":"HQ"}`)) + ".",
		},
	}
	verifyAll(t, verifier, tests)
}

func TestNewJWKSVerifierArguments(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, url, issuer, audience string
	}{
		{"plain http to a remote host", "http://idp.example/jwks", "iss", Audience},
		{"not a URL", "::", "iss", Audience},
		{"other scheme", "ftp://idp.example/jwks", "iss", Audience},
		{"https without host", "https:///jwks", "iss", Audience},
		{"empty issuer", "http://127.0.0.1:1/jwks", "", Audience},
		{"empty audience", "http://127.0.0.1:1/jwks", "iss", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewJWKSVerifier(t.Context(), tt.url, tt.issuer, tt.audience); err == nil {
				t.Error("NewJWKSVerifier() error = nil, want an error")
			}
		})
	}
}

func TestCheckJWKSURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		url  string
		want bool
	}{
		{"https://idp.example/.well-known/jwks.json", true},
		{"http://127.0.0.1:8080/jwks", true},
		{"http://[::1]:8080/jwks", true},
		{"http://localhost:8080/jwks", true},
		{"http://idp.example/jwks", false},
		{"http://localhost.evil.example/jwks", false},
		{"file:///etc/jwks.json", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			if got := checkJWKSURL(tt.url) == nil; got != tt.want {
				t.Errorf("checkJWKSURL(%q) ok = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}

// serveJWKS serves a JWK Set holding the public half of key under kid.
func serveJWKS(t *testing.T, key *ecdsa.PrivateKey, kid string) *httptest.Server {
	t.Helper()
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgES256, USE: jwkset.UseSig},
	})
	if err != nil {
		t.Fatalf("NewJWKFromKey: %v", err)
	}
	set := jwkset.NewMemoryStorage()
	if err := set.KeyWrite(t.Context(), jwk); err != nil {
		t.Fatalf("KeyWrite: %v", err)
	}
	body, err := set.JSONPublic(t.Context())
	if err != nil {
		t.Fatalf("JSONPublic: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hmacToken forges an HS256 token for an admin, keyed with secret: the
// algorithm-confusion attack where a verifier is tricked into using its
// public key as an HMAC secret.
func hmacToken(t *testing.T, secret []byte, exp time.Time) string {
	t.Helper()
	tc := validClaims(exp)
	tc.Role, tc.Mission = string(RoleAdmin), MissionHQ
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(secret)
	if err != nil {
		t.Fatalf("SignedString: %v", err)
	}
	return s
}

func publicKeyPEM(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// tamperSignature flips one bit of the token's signature.
func tamperSignature(t *testing.T, token string) string {
	t.Helper()
	i := strings.LastIndex(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		t.Fatalf("decode signature: %v", err)
	}
	sig[0] ^= 0x01
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// replacePayload swaps the token's payload, keeping header and signature.
func replacePayload(t *testing.T, token, payload string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(payload))
	return strings.Join(parts, ".")
}
