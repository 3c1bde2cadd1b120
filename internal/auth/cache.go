package auth

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// cachedVerifier remembers tokens it has verified until they expire, so that a client making
// many calls with one token pays for the signature check once. A token is looked up by a hash
// of its exact bytes: a token that differs in any byte is verified afresh. A cached token
// stays accepted until its own expiry, as it would be anyway: JWTs cannot be revoked early.
type cachedVerifier struct {
	next Verifier
	max  int
	now  func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]Claims
}

// Cached wraps v with a cache of at most max verified tokens.
func Cached(v Verifier, max int) Verifier {
	return &cachedVerifier{next: v, max: max, now: time.Now, entries: make(map[[sha256.Size]byte]Claims)}
}

func (c *cachedVerifier) Verify(ctx context.Context, token string) (Claims, error) {
	key := sha256.Sum256([]byte(token))
	now := c.now()
	c.mu.Lock()
	claims, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(claims.ExpiresAt) {
		return claims, nil
	}
	claims, err := c.next.Verify(ctx, token)
	if err != nil {
		return Claims{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[key] = claims
	return claims, nil
}

// evict drops expired tokens, and everything when that is not enough: a full cache of live
// tokens only costs a round of fresh verifications.
func (c *cachedVerifier) evict(now time.Time) {
	for k, cl := range c.entries {
		if !now.Before(cl.ExpiresAt) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
}
