package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// DevIssuer is the issuer of tokens minted with the development key.
	DevIssuer = "passage-dev"
	// Audience is the audience every Passage token must be issued for.
	Audience = "passage"

	devKeyFile = "dev-signing-key.pem"
	pemType    = "PRIVATE KEY" // PKCS#8
)

// LoadOrCreateDevKey returns the development signing key stored in
// dir/dev-signing-key.pem (PKCS#8 PEM), creating dir (0700) and the key (0600)
// on first use. Never use this key outside development.
func LoadOrCreateDevKey(dir string) (ed25519.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev key directory: %w", err)
	}
	path := filepath.Join(dir, devKeyFile)
	key, err := readDevKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	return createDevKey(dir, path)
}

func readDevKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read dev key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("auth: dev key %s: no %q PEM block", path, pemType)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: dev key %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: dev key %s: want Ed25519, got %T", path, parsed)
	}
	return key, nil
}

func createDevKey(dir, path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("auth: generate dev key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: encode dev key: %w", err)
	}

	// Write a private temporary file (CreateTemp uses 0600), then link it into
	// place: readers never see a half-written key.
	tmp, err := os.CreateTemp(dir, ".dev-signing-key-*")
	if err != nil {
		return nil, fmt.Errorf("auth: write dev key: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = pem.Encode(tmp, &pem.Block{Type: pemType, Bytes: der})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("auth: write dev key: %w", err)
	}

	// Link rather than rename: if another process (say the CLI minting a token
	// while the server starts) created the key meanwhile, keep theirs so the
	// tokens it signs stay valid.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readDevKey(path)
		}
		return nil, fmt.Errorf("auth: write dev key: %w", err)
	}
	return key, nil
}

// MintToken signs a token for c, issued by issuer for audience and valid for
// ttl from now. The algorithm follows the key type (EdDSA for an Ed25519 key;
// see NewKeyVerifier). c.ExpiresAt is ignored. Claims a verifier would refuse
// are refused here too.
func MintToken(key crypto.Signer, issuer, audience string, c Claims, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", errors.New("auth: mint token: ttl must be positive")
	}
	if issuer == "" || audience == "" {
		return "", errors.New("auth: mint token: issuer and audience are required")
	}
	now := time.Now()
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role:    string(c.Role),
		Mission: c.Mission,
		Partner: c.Partner,
	}
	if err := tc.Validate(); err != nil {
		return "", fmt.Errorf("auth: mint token: %w", err)
	}
	return signToken(key, "", tc)
}

// signToken signs tc with key, naming the key id kid in the header if set.
func signToken(key crypto.Signer, kid string, tc tokenClaims) (string, error) {
	method, err := signingMethodFor(key.Public())
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(method, tc)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}
