package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Verifier turns a bearer token into verified Claims.
//
// Errors returned by Verify describe why a token was refused; they are for
// operators and tests, never for the client.
type Verifier interface {
	Verify(ctx context.Context, token string) (Claims, error)
}

// ErrInvalidToken is wrapped by every error a Verifier in this package returns
// for a token it refuses.
var ErrInvalidToken = errors.New("auth: invalid token")

// DefaultMaxLifetime is the longest token accepted unless WithMaxLifetime says otherwise: a
// working day. A stolen token is good until it expires; this bounds how long.
const DefaultMaxLifetime = 12 * time.Hour

const (
	// clockLeeway absorbs clock skew between the identity provider and us: exp, nbf and iat
	// are checked with this much slack, and no more.
	clockLeeway = 30 * time.Second
	// maxTokenBytes bounds the work done on a token before its signature is
	// checked; real tokens are well under 2 KiB.
	maxTokenBytes = 8 << 10
)

// jwksMethods are the algorithms accepted from the identity provider. "none"
// and the HMAC family are never accepted: with HMAC, a public key could be
// misused as a shared secret (algorithm confusion).
var jwksMethods = []string{
	jwt.SigningMethodRS256.Alg(),
	jwt.SigningMethodES256.Alg(),
	jwt.SigningMethodEdDSA.Alg(),
}

// tokenClaims is the JWT payload as issued: the registered claims plus our
// custom "role", "mission" and, for a partner agency, "partner".
type tokenClaims struct {
	jwt.RegisteredClaims
	Role    string `json:"role"`
	Mission string `json:"mission,omitempty"`
	Partner string `json:"partner,omitempty"`
}

// Validate implements jwt.ClaimsValidator; the parser runs it after the
// registered-claim checks. Errors name the claim, never its value.
func (c tokenClaims) Validate() error {
	if c.Subject == "" {
		return errors.New("missing sub claim")
	}
	r, err := ParseRole(c.Role)
	if err != nil {
		return errors.New("missing or unknown role claim")
	}
	if !validPartner(r, c.Partner) {
		return errors.New("invalid partner claim")
	}
	// A partner agency's token names the partner; it works with every mission that refers to
	// it, so its mission claim may be absent.
	if !(r == RolePartner && c.Partner != "" && c.Mission == "") && !validMission(r, c.Mission) {
		return errors.New("missing or invalid mission claim")
	}
	return nil
}

func (c tokenClaims) claims() Claims {
	out := Claims{Subject: c.Subject, Role: Role(c.Role), Mission: c.Mission, Partner: c.Partner}
	if c.ExpiresAt != nil {
		out.ExpiresAt = c.ExpiresAt.Time
	}
	return out
}

// Option tunes a Verifier built by NewKeyVerifier or NewJWKSVerifier.
type Option func(*jwtVerifier)

// WithMaxLifetime refuses tokens that live longer than d: exp - iat above d, or, for a token
// without iat, exp - now above d. d <= 0 keeps DefaultMaxLifetime.
func WithMaxLifetime(d time.Duration) Option {
	return func(v *jwtVerifier) {
		if d > 0 {
			v.maxLifetime = d
		}
	}
}

// jwtVerifier is the Verifier behind both constructors; they differ only in
// where keys come from and which algorithms are allowed.
type jwtVerifier struct {
	parser      *jwt.Parser
	keyfunc     func(ctx context.Context) jwt.Keyfunc
	maxLifetime time.Duration
	// err is set when construction failed; Verify then refuses every token,
	// so a misconfigured verifier fails closed instead of panicking.
	err error
}

func newJWTVerifier(methods []string, issuer, audience string, keyfunc func(context.Context) jwt.Keyfunc, opts []Option) *jwtVerifier {
	if issuer == "" || audience == "" {
		// The jwt parser skips the iss check for an empty issuer; refuse instead.
		return &jwtVerifier{err: errors.New("auth: verifier needs an issuer and an audience")}
	}
	v := &jwtVerifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods(methods),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(clockLeeway),
			// Reject non-canonical base64 so a signature has exactly one encoding.
			jwt.WithStrictDecoding(),
		),
		keyfunc:     keyfunc,
		maxLifetime: DefaultMaxLifetime,
	}
	for _, o := range opts {
		o(v)
	}
	return v
}

func (v *jwtVerifier) Verify(ctx context.Context, token string) (Claims, error) {
	if v.err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, v.err)
	}
	if token == "" || len(token) > maxTokenBytes {
		return Claims{}, fmt.Errorf("%w: empty or oversized", ErrInvalidToken)
	}
	if err := checkStrict(token); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	var tc tokenClaims
	if _, err := v.parser.ParseWithClaims(token, &tc, v.keyfunc(ctx)); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if err := v.checkLifetime(tc, time.Now()); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return tc.claims(), nil
}

// checkLifetime refuses a token meant to live longer than maxLifetime, counted from iat, or
// from now when the token has no iat. The parser has already required exp, refused an iat or
// nbf more than clockLeeway in the future and an exp more than clockLeeway in the past.
func (v *jwtVerifier) checkLifetime(tc tokenClaims, now time.Time) error {
	if tc.ExpiresAt == nil {
		return errors.New("missing exp claim")
	}
	from := now
	if tc.IssuedAt != nil {
		from = tc.IssuedAt.Time
	}
	if tc.ExpiresAt.Sub(from) > v.maxLifetime {
		return errors.New("lifetime (exp - iat, or exp - now without iat) above the maximum")
	}
	if tc.NotBefore != nil && tc.NotBefore.After(tc.ExpiresAt.Time) {
		return errors.New("nbf after exp")
	}
	return nil
}

// NewKeyVerifier returns a Verifier for tokens signed by the single key whose
// public half is pub, issued by issuer for audience. It is meant for
// development with the key from LoadOrCreateDevKey. Only the algorithm that
// matches the key type is accepted (EdDSA for Ed25519, ES256/384/512 for
// ECDSA by curve, RS256 for RSA). An unsupported key, or an empty issuer or
// audience, yields a Verifier that refuses every token. Tokens must meet the
// contract in the package documentation.
func NewKeyVerifier(pub crypto.PublicKey, issuer, audience string, opts ...Option) Verifier {
	method, err := signingMethodFor(pub)
	if err != nil {
		return &jwtVerifier{err: err}
	}
	keyfunc := func(context.Context) jwt.Keyfunc {
		return func(*jwt.Token) (any, error) { return pub, nil }
	}
	return newJWTVerifier([]string{method.Alg()}, issuer, audience, keyfunc, opts)
}

// NewJWKSVerifier returns a Verifier for tokens from a production identity
// provider that publishes its keys as a JWK Set at jwksURL. Keys are cached
// and refreshed by keyfunc's defaults (hourly, and on an unknown key id, rate
// limited) until ctx is done. Accepted algorithms: RS256, ES256, EdDSA. Tokens
// must meet the contract in the package documentation.
//
// jwksURL must be https, except on a loopback host: keys fetched in the clear
// could be replaced by anyone on the path.
func NewJWKSVerifier(ctx context.Context, jwksURL, issuer, audience string, opts ...Option) (Verifier, error) {
	if err := checkJWKSURL(jwksURL); err != nil {
		return nil, err
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("auth: JWKS verifier needs an issuer and an audience")
	}
	k, err := keyfunc.NewDefaultCtx(ctx, []string{jwksURL})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS verifier: %w", err)
	}
	return newJWTVerifier(jwksMethods, issuer, audience, k.KeyfuncCtx, opts), nil
}

func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("auth: JWKS URL: %w", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("auth: JWKS URL %q must use https", raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// signingMethodFor picks the one JWT algorithm used with a key type, so that
// signing and verification agree and a key is never used with another family.
func signingMethodFor(pub crypto.PublicKey) (jwt.SigningMethod, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return jwt.SigningMethodEdDSA, nil
		}
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			break
		}
		switch k.Curve.Params().Name {
		case "P-256":
			return jwt.SigningMethodES256, nil
		case "P-384":
			return jwt.SigningMethodES384, nil
		case "P-521":
			return jwt.SigningMethodES512, nil
		}
	case *rsa.PublicKey:
		if k != nil {
			return jwt.SigningMethodRS256, nil
		}
	}
	return nil, fmt.Errorf("auth: unsupported key type %T", pub)
}
