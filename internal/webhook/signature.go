package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com, spec version 1.0.0).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const (
	secretPrefix = "whsec_"
	// The scheme asks for at least 24 random bytes (192 bits) and at most 64 (512 bits).
	minSecretLen = 24
	maxSecretLen = 64
	// NewSecret draws 32 bytes: HMAC-SHA256's own block of strength.
	newSecretLen = 32
	sigVersion   = "v1"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's clock, either
// way: the scheme's recommended five minutes.
const DefaultTolerance = 5 * time.Minute

// Secret is a partner endpoint's symmetric signing key. Its String and GoString print no key
// material, so a secret logged by mistake leaks nothing; Encode gives the "whsec_" form to
// hand to the partner once.
type Secret struct {
	key []byte
}

// ParseSecret reads a "whsec_<base64>" secret (standard base64 with padding, as the scheme
// serialises it) of 24 to 64 bytes.
func ParseSecret(s string) (Secret, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return Secret{}, errors.New("webhook: secret must start with " + secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return Secret{}, errors.New("webhook: secret is not base64")
	}
	if len(key) < minSecretLen || len(key) > maxSecretLen {
		return Secret{}, fmt.Errorf("webhook: secret must be %d to %d bytes, not %d", minSecretLen, maxSecretLen, len(key))
	}
	return Secret{key: key}, nil
}

// NewSecret returns a fresh random secret.
func NewSecret() Secret {
	key := make([]byte, newSecretLen)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (it panics rather, per its doc)
	return Secret{key: key}
}

// Encode returns the secret as "whsec_<base64>", the form partners configure.
func (s Secret) Encode() string {
	return secretPrefix + base64.StdEncoding.EncodeToString(s.key)
}

// IsZero reports whether s holds no key.
func (s Secret) IsZero() bool { return len(s.key) == 0 }

// String hides the key.
func (s Secret) String() string { return "whsec_[redacted]" }

// GoString hides the key from %#v too.
func (s Secret) GoString() string { return s.String() }

// Sign returns the webhook-signature value for one signature: "v1," followed by the base64
// HMAC-SHA256, under s, of "<id>.<unix seconds of ts>.<body>".
func Sign(s Secret, id string, ts time.Time, body []byte) string {
	return sigVersion + "," + base64.StdEncoding.EncodeToString(mac(s.key, id, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Errors of Verify. None carries the request's content.
var (
	ErrMissingHeaders   = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp     = errors.New("webhook: webhook-timestamp is not an integer of seconds")
	ErrTimestampOutside = errors.New("webhook: webhook-timestamp is outside the tolerance")
	ErrNoMatch          = errors.New("webhook: no signature matches")
)

// Verify checks a received webhook as a partner would: the three headers are present, the
// timestamp is within tolerance of now (either way; DefaultTolerance when tolerance <= 0), and
// one of the space-separated signatures in webhook-signature is a "v1" signature of the id,
// timestamp and raw body under s, compared in constant time. Signatures of other versions
// ("v1a", asymmetric) are skipped, as the scheme asks, so a sender may add them.
func Verify(s Secret, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare in seconds so that no conversion to time.Duration can overflow.
	skew := now.Unix() - sec
	if limit := int64(tolerance / time.Second); skew > limit || skew < -limit {
		return ErrTimestampOutside
	}
	if s.IsZero() {
		return ErrNoMatch
	}
	want := mac(s.key, id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != sigVersion {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}
