package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

type countingVerifier struct {
	calls  int
	claims map[string]Claims
}

func (v *countingVerifier) Verify(_ context.Context, token string) (Claims, error) {
	v.calls++
	c, ok := v.claims[token]
	if !ok {
		return Claims{}, ErrInvalidToken
	}
	return c, nil
}

func TestCachedVerifier(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	next := &countingVerifier{claims: map[string]Claims{
		"a": {Subject: "a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: now.Add(time.Hour)},
		"b": {Subject: "b", Role: RoleCaseworker, Mission: "NER", ExpiresAt: now.Add(time.Minute)},
		"c": {Subject: "c", Role: RoleCaseworker, Mission: "NER", ExpiresAt: now.Add(time.Hour)},
	}}
	v := Cached(next, 2).(*cachedVerifier)
	v.now = func() time.Time { return now }
	ctx := context.Background()

	for range 3 {
		if c, err := v.Verify(ctx, "a"); err != nil || c.Subject != "a" {
			t.Fatalf("Verify(a) = %v, %v", c, err)
		}
	}
	if next.calls != 1 {
		t.Errorf("a token verified %d times, want once", next.calls)
	}
	// A refused token is never cached: it is refused every time.
	for range 2 {
		if _, err := v.Verify(ctx, "forged"); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify(forged) = %v", err)
		}
	}
	if next.calls != 3 {
		t.Errorf("%d verifications after two forged tokens, want 3", next.calls)
	}
	// An expired token is verified again (and the underlying verifier refuses it in life).
	v.Verify(ctx, "b") //nolint:errcheck // caches b
	now = now.Add(2 * time.Minute)
	calls := next.calls
	v.Verify(ctx, "b") //nolint:errcheck // b has expired in the cache
	if next.calls != calls+1 {
		t.Error("an expired cached token was not verified again")
	}
	// A full cache evicts expired entries before growing past its bound.
	v.Verify(ctx, "c") //nolint:errcheck
	if len(v.entries) > 2 {
		t.Errorf("the cache holds %d entries, bound 2", len(v.entries))
	}
}
