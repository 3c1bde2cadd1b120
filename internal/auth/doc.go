// Package auth authenticates gRPC callers with bearer tokens (JWTs) and
// authorizes each RPC against a per-method role policy that fails closed.
// Verified identity travels in the request context as Claims; handlers use it
// for mission (tenant) checks. After the role check, an Admit function, when the server has
// one, decides whether the caller may call at all: the staff directory's (internal/staffdir),
// which refuses a deactivated member whose token has not expired yet. TapHandle authenticates a call when its stream opens,
// before grpc reads its message. A development Ed25519 key and token minting
// support local runs without an identity provider.
//
// # Token contract
//
// What an identity provider must issue for Passage to accept a token. Anything
// else is refused, and the client learns only UNAUTHENTICATED "missing or
// invalid bearer token": the reason is logged at debug level, naming the check,
// never a claim's value nor the token.
//
// Form. A compact JWS (three base64url segments, unpadded, canonical), at most
// 8 KiB, sent as one "authorization: Bearer <token>" entry (HTTP header or
// gRPC metadata). Header and payload are each one JSON object in UTF-8 with
// no duplicate member names, at any depth; names are compared as encoding/json
// compares them, case-insensitively, so "role" and "ROLE" are duplicates, and a
// payload member spelled like a claim below in another case ("Exp") is refused.
//
// Header. alg is RS256, ES256 or EdDSA when keys come from the provider's JWKS
// (NewJWKSVerifier; kid names the key), or the one algorithm of the
// development key's type (NewKeyVerifier: EdDSA). "none" and the HMAC family
// are never accepted. The header carries no crit: Passage understands no JWS
// extension, so a token naming any, even an empty list, is refused (RFC 7515
// §4.1.11).
//
// Registered claims.
//   - iss: exactly the configured issuer (PASSAGE_TOKEN_ISSUER; "passage-dev"
//     for development tokens).
//   - aud: a string or an array holding the configured audience
//     (PASSAGE_TOKEN_AUDIENCE, default "passage").
//   - sub: required, non-empty, a pseudonymous staff id; never a name or an
//     e-mail address, since it reaches audit records.
//   - exp: required. exp, and nbf and iat when present, are JSON numbers of
//     seconds since 1970 (RFC 7519 NumericDate), fractions allowed, between
//     1970 and 9999; a string, even of digits, is refused.
//   - iat: recommended; at most 30 s in the future (clock leeway).
//   - nbf: optional; at most 30 s in the future, and not after exp.
//
// Lifetime. exp - iat, or exp - now for a token without iat, is at most the
// configured maximum (WithMaxLifetime; the server's PASSAGE_MAX_TOKEN_LIFETIME,
// 12 h by default). exp itself may be up to 30 s in the past. A token cannot
// be revoked before it expires, so keep lifetimes short and refresh.
//
// Passage claims (strings).
//   - role: required, one of caseworker, supervisor, programme_manager,
//     analyst, partner, admin.
//   - mission: the caller's mission, an ISO 3166-1 alpha-3 code with an
//     optional sub-office suffix ("NER", "NER-AGADEZ"), or "HQ" for HQ roles
//     only (see Role.IsHQ). Required, except on a partner token that names
//     its partner.
//   - partner: only on role partner: the partner agency's id in the referral
//     registry, a lower-case canonical UUID.
//
// Other claims (jti, scope, a provider's own) are allowed and ignored, within
// the rules on form above.
package auth
