package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// signRaw signs the exact header and payload bytes given with key (EdDSA), so that a test can
// send JSON the jwt library would never produce: duplicate keys, strings for numbers, crit.
func signRaw(key ed25519.PrivateKey, header, payload string) string {
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	return input + "." + b64.EncodeToString(ed25519.Sign(key, []byte(input)))
}

// obj joins JSON members into an object, in the order given.
func obj(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

// num is a JSON member holding the Unix time t as a number; str holds it as a string.
func num(name string, t time.Time) string { return fmt.Sprintf("%q:%d", name, t.Unix()) }
func str(name string, t time.Time) string { return fmt.Sprintf("%q:\"%d\"", name, t.Unix()) }

const (
	edHeader  = `{"alg":"EdDSA","typ":"JWT"}`
	mIss      = `"iss":"passage-dev"`
	mSub      = `"sub":"staff-7f3a"`
	mAud      = `"aud":["passage"]`
	mRole     = `"role":"caseworker"`
	mMission  = `"mission":"NER"`
	mAdmin    = `"role":"admin"`
	mMissionS = `"mission":"NER-AGADEZ"`
)

// TestStrictTokens: every token issue 15 lists, and their near relatives, is refused; each
// differs from an accepted token (the first cases) in the one respect its name gives.
func TestStrictTokens(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	verifier := NewKeyVerifier(key.Public(), DevIssuer, Audience)
	now := time.Now().Truncate(time.Second)
	iat, exp := num("iat", now), num("exp", now.Add(time.Hour))
	year3000 := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	caseworker := Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: now.Add(time.Hour)}

	tests := []struct {
		name            string
		header, payload string
		want            Claims // zero: refused
	}{
		{name: "valid", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission), want: caseworker},
		{name: "valid, nbf and iat now", header: edHeader, payload: obj(mIss, mSub, mAud, iat, num("nbf", now), exp, mRole, mMission), want: caseworker},
		{name: "valid, no iat, one hour", header: edHeader, payload: obj(mIss, mSub, mAud, exp, mRole, mMission), want: caseworker},
		{name: "valid, fractional exp", header: edHeader, payload: obj(mIss, mSub, mAud, iat, fmt.Sprintf(`"exp":%d.0`, now.Add(time.Hour).Unix()), mRole, mMission), want: caseworker},
		{name: "valid, lifetime exactly the maximum", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, num("exp", now.Add(DefaultMaxLifetime)), mRole, mMission),
			want:    Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: now.Add(DefaultMaxLifetime)}},
		{name: "valid, iat within the clock leeway", header: edHeader,
			payload: obj(mIss, mSub, mAud, num("iat", now.Add(5*time.Second)), exp, mRole, mMission), want: caseworker},
		{name: "valid, nested private claim", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"realm_access":{"roles":["a","b"]}`), want: caseworker},
		{name: "valid, strings holding JSON syntax", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"note":"}\",\"role\":\"admin\"{[", "list" : [ {"a":1} , {"a":2} , -1.5e3, true, null ]`), want: caseworker},

		// Issue 15's tokens.
		{name: "exp as a string", header: edHeader, payload: obj(mIss, mSub, mAud, iat, str("exp", now.Add(time.Hour)), mRole, mMission)},
		{name: "unknown crit header", header: `{"alg":"EdDSA","typ":"JWT","crit":["urn:example:ext"],"urn:example:ext":true}`,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission)},
		{name: "exp in the year 3000", header: edHeader, payload: obj(mIss, mSub, mAud, iat, num("exp", year3000), mRole, mMission)},
		{name: "duplicate role keys", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, mAdmin)},

		// Their relatives.
		{name: "nbf as a string", header: edHeader, payload: obj(mIss, mSub, mAud, iat, str("nbf", now), exp, mRole, mMission)},
		{name: "iat as a string", header: edHeader, payload: obj(mIss, mSub, mAud, str("iat", now), exp, mRole, mMission)},
		{name: "exp as a boolean", header: edHeader, payload: obj(mIss, mSub, mAud, iat, `"exp":true`, mRole, mMission)},
		{name: "exp past the year 9999", header: edHeader, payload: obj(mIss, mSub, mAud, iat, `"exp":1e300`, mRole, mMission)},
		{name: "empty crit header", header: `{"alg":"EdDSA","typ":"JWT","crit":[]}`, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission)},
		{name: "crit naming a registered header", header: `{"alg":"EdDSA","typ":"JWT","crit":["b64"],"b64":false}`,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission)},
		{name: "exp in the year 3000 without iat", header: edHeader, payload: obj(mIss, mSub, mAud, num("exp", year3000), mRole, mMission)},
		{name: "lifetime one second over the maximum", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, num("exp", now.Add(DefaultMaxLifetime+time.Second)), mRole, mMission)},
		{name: "long past iat stretching the lifetime", header: edHeader,
			payload: obj(mIss, mSub, mAud, num("iat", now.Add(-DefaultMaxLifetime)), num("exp", now.Add(time.Minute)), mRole, mMission)},
		{name: "duplicate role keys, admin first", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mAdmin, mMission, mRole)},
		{name: "duplicate mission keys", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, mMissionS)},
		{name: "duplicate exp keys", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, num("exp", year3000), mRole, mMission)},
		{name: "role twice, one escaped", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"\u0072ole":"admin"`)},
		{name: "role twice, one in capitals", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"ROLE":"admin"`)},
		{name: "role in capitals alone", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, `"Role":"caseworker"`, mMission)},
		{name: "exp in capitals as a string", header: edHeader, payload: obj(mIss, mSub, mAud, iat, str("EXP", now.Add(time.Hour)), mRole, mMission)},
		{name: "duplicate key in a nested claim", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"realm_access":{"roles":["a"],"roles":["admin"]}`)},
		{name: "duplicate key in an object inside an array", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"list":[{"a":1},{"a":1,"a":2}]`)},
		{name: "sub twice, one with a long s", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"\u017fub":"staff-0000"`)},
		{name: "duplicate kid header", header: `{"alg":"EdDSA","typ":"JWT","kid":"a","kid":"b"}`, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission)},
		{name: "duplicate alg header", header: `{"alg":"EdDSA","typ":"JWT","alg":"none"}`, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission)},
		{name: "trailing data after the payload", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission) + `{"role":"admin"}`},
		{name: "payload not an object", header: edHeader, payload: `["role","admin"]`},
		{name: "payload not UTF-8", header: edHeader, payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, "\"x\xff\":1")},
		{name: "nested too deeply", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, exp, mRole, mMission, `"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40))},

		// Skew: nbf and iat in the future beyond the clock leeway.
		{name: "iat two minutes in the future", header: edHeader, payload: obj(mIss, mSub, mAud, num("iat", now.Add(2*time.Minute)), exp, mRole, mMission)},
		{name: "nbf two minutes in the future", header: edHeader, payload: obj(mIss, mSub, mAud, iat, num("nbf", now.Add(2*time.Minute)), exp, mRole, mMission)},
		// Both within the leeway of now, so only their order is wrong.
		{name: "nbf after exp", header: edHeader,
			payload: obj(mIss, mSub, mAud, iat, num("nbf", now.Add(20*time.Second)), num("exp", now.Add(10*time.Second)), mRole, mMission)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := verifier.Verify(t.Context(), signRaw(key, tt.header, tt.payload))
			if tt.want == (Claims{}) {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("Verify() = %+v, %v; want ErrInvalidToken", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify(): %v", err)
			}
			if !got.ExpiresAt.Equal(tt.want.ExpiresAt) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tt.want.ExpiresAt)
			}
			got.ExpiresAt = tt.want.ExpiresAt
			if got != tt.want {
				t.Errorf("Verify() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestMaxLifetimeOption: WithMaxLifetime lowers or raises the bound; zero keeps the default.
func TestMaxLifetimeOption(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	now := time.Now()
	twoHours := sign(t, key, "", now.Add(2*time.Hour), nil)
	day := sign(t, key, "", now.Add(24*time.Hour), nil)

	for _, tt := range []struct {
		name   string
		max    time.Duration
		token  string
		accept bool
	}{
		{"one hour refuses two", time.Hour, twoHours, false},
		{"three hours accepts two", 3 * time.Hour, twoHours, true},
		{"default refuses a day", 0, day, false},
		{"default accepts two hours", 0, twoHours, true},
		{"a day accepts a day", 24 * time.Hour, day, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := NewKeyVerifier(key.Public(), DevIssuer, Audience, WithMaxLifetime(tt.max))
			_, err := v.Verify(t.Context(), tt.token)
			if tt.accept && err != nil {
				t.Errorf("Verify(): %v, want accepted", err)
			}
			if !tt.accept && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify(): %v, want ErrInvalidToken", err)
			}
		})
	}
}

// TestStrictTokensOverTheInterceptor: a client sending the tokens gets UNAUTHENTICATED
// with the one fixed message, which never echoes the token, and the handler never runs.
func TestStrictTokensOverTheInterceptor(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	interceptor := UnaryServerInterceptor(Cached(NewKeyVerifier(key.Public(), DevIssuer, Audience), 16), Policy{registerCase: {RoleCaseworker, RoleAdmin}}, nil)
	now := time.Now()
	iat, exp := num("iat", now), num("exp", now.Add(time.Hour))
	tokens := map[string]string{
		"exp as a string":      signRaw(key, edHeader, obj(mIss, mSub, mAud, iat, str("exp", now.Add(time.Hour)), mRole, mMission)),
		"unknown crit":         signRaw(key, `{"alg":"EdDSA","crit":["urn:example:ext"],"urn:example:ext":1}`, obj(mIss, mSub, mAud, iat, exp, mRole, mMission)),
		"exp in the year 3000": signRaw(key, edHeader, obj(mIss, mSub, mAud, iat, `"exp":32503680000`, mRole, mMission)),
		"duplicate role keys":  signRaw(key, edHeader, obj(mIss, mSub, mAud, iat, exp, mRole, mMission, mAdmin)),
		"iat in the future":    signRaw(key, edHeader, obj(mIss, mSub, mAud, num("iat", now.Add(10*time.Minute)), exp, mRole, mMission)),
	}
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
			ran := false
			_, err := interceptor(ctx, nil, &grpc.UnaryServerInfo{FullMethod: registerCase}, func(context.Context, any) (any, error) {
				ran = true
				return nil, nil
			})
			st := status.Convert(err)
			if st.Code() != codes.Unauthenticated || st.Message() != "missing or invalid bearer token" {
				t.Errorf("status = %v %q, want Unauthenticated with the fixed message", st.Code(), st.Message())
			}
			if ran {
				t.Error("the handler ran")
			}
		})
	}
}

// TestMintedTokensMeetTheContract: what MintToken and the dev-token command issue at their
// default lifetime passes the strict checks.
func TestMintedTokensMeetTheContract(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	tok, err := MintToken(key, DevIssuer, Audience, Claims{Subject: "dev-caseworker", Role: RoleCaseworker, Mission: "NER"}, DefaultMaxLifetime)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStrict(tok); err != nil {
		t.Errorf("checkStrict: %v", err)
	}
	if _, err := NewKeyVerifier(key.Public(), DevIssuer, Audience).Verify(t.Context(), tok); err != nil {
		t.Errorf("Verify: %v", err)
	}

}
