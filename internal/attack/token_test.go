package attack_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
)

// claims is what a caseworker's token says, as the attacker would copy it.
type claims struct {
	jwt.RegisteredClaims
	Role    string `json:"role"`
	Mission string `json:"mission"`
}

func caseworker(mutate func(*claims)) claims {
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    auth.DevIssuer,
			Subject:   "staff-attacker",
			Audience:  jwt.ClaimStrings{auth.Audience},
			IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Role:    string(auth.RoleSupervisor),
		Mission: "NER",
	}
	if mutate != nil {
		mutate(&c)
	}
	return c
}

func signed(t *testing.T, method jwt.SigningMethod, key any, c claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestForgedTokens calls every method of every service with tokens that must not pass, and
// one that must (so a refusal is the token's doing): each bad one is UNAUTHENTICATED, and
// nothing is written.
func TestForgedTokens(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	all := tables(t, env)
	before := env.RowCounts(t, all...)

	devKey := env.Signer()
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(devKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	b64 := base64.RawURLEncoding

	bad := map[string]string{
		"signed by another key": signed(t, jwt.SigningMethodEdDSA, otherKey, caseworker(nil)),
		"expired": signed(t, jwt.SigningMethodEdDSA, devKey, caseworker(func(c *claims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		})),
		"not yet valid": signed(t, jwt.SigningMethodEdDSA, devKey, caseworker(func(c *claims) {
			c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
		})),
		"wrong audience": signed(t, jwt.SigningMethodEdDSA, devKey, caseworker(func(c *claims) {
			c.Audience = jwt.ClaimStrings{"partner-portal"}
		})),
		"wrong issuer": signed(t, jwt.SigningMethodEdDSA, devKey, caseworker(func(c *claims) {
			c.Issuer = "https://attacker.example"
		})),
		"alg none": b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			b64.EncodeToString([]byte(`{"iss":"passage-dev","sub":"staff-attacker","aud":"passage","exp":9999999999,"role":"admin","mission":"HQ"}`)) + ".",
		"HS256 keyed with the public key": signed(t, jwt.SigningMethodHS256, pubPEM, caseworker(nil)),
		"HS256 keyed with the raw public key": signed(t, jwt.SigningMethodHS256,
			[]byte(devKey.Public().(ed25519.PublicKey)), caseworker(nil)),
		"role escalated in the payload": escalate(t, signed(t, jwt.SigningMethodEdDSA, devKey, caseworker(nil))),
		"garbage":                       "not.a.token",
	}
	good := signed(t, jwt.SigningMethodEdDSA, devKey, caseworker(nil))

	for _, m := range methods(t) {
		t.Run(m.full, func(t *testing.T) {
			t.Parallel()
			for name, tok := range bad {
				err := invoke(testserver.WithToken(t.Context(), tok), env, m.full, nil)
				if got := status.Code(err); got != codes.Unauthenticated {
					t.Errorf("%s: %v, want UNAUTHENTICATED", name, err)
				}
			}
			err := invoke(t.Context(), env, m.full, nil)
			if got := status.Code(err); got != codes.Unauthenticated {
				t.Errorf("no token: %v, want UNAUTHENTICATED", err)
			}
			// The well-formed token gets past authentication: refused for its role or its
			// empty request, never as unauthenticated.
			err = invoke(testserver.WithToken(t.Context(), good), env, m.full, nil)
			if got := status.Code(err); got == codes.Unauthenticated {
				t.Errorf("valid token: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		if diff := cmp.Diff(before, env.RowCounts(t, all...)); diff != "" {
			t.Errorf("calls with forged tokens wrote rows (-before +after):\n%s", diff)
		}
	})
}

// escalate swaps a signed token's payload for one claiming the admin role, keeping the
// original signature.
func escalate(t *testing.T, tok string) string {
	t.Helper()
	b64 := base64.RawURLEncoding
	parts := [3]string{}
	n := 0
	start := 0
	for i := range len(tok) {
		if tok[i] == '.' {
			parts[n] = tok[start:i]
			n++
			start = i + 1
		}
	}
	parts[2] = tok[start:]
	parts[1] = b64.EncodeToString([]byte(`{"iss":"passage-dev","sub":"staff-attacker","aud":["passage"],"exp":9999999999,"role":"admin","mission":"HQ"}`))
	return parts[0] + "." + parts[1] + "." + parts[2]
}
