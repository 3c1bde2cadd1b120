package auth

import (
	"crypto"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// newKey returns a fresh Ed25519 key.
func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return key
}

// validClaims returns the payload of a good dev token for a caseworker in
// Niger, expiring at exp.
func validClaims(exp time.Time) tokenClaims {
	now := time.Now()
	return tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    DevIssuer,
			Subject:   "staff-7f3a",
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Role:    string(RoleCaseworker),
		Mission: "NER",
	}
}

// sign signs validClaims, after mutate, with key.
func sign(t *testing.T, key crypto.Signer, kid string, exp time.Time, mutate func(*tokenClaims)) string {
	t.Helper()
	tc := validClaims(exp)
	if mutate != nil {
		mutate(&tc)
	}
	s, err := signToken(key, kid, tc)
	if err != nil {
		t.Fatalf("signToken: %v", err)
	}
	return s
}
