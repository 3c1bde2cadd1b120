package quota

import (
	"hash/maphash"
	"sync"
	"time"
)

// shards spreads a keyspace over this many locks, so that concurrent calls of different
// callers rarely wait for one another.
const shards = 16

// store is one keyspace of token buckets, bounded to about max buckets: each shard keeps
// max/shards and drops its least recently used bucket for a new one.
type store struct {
	seed   maphash.Seed
	shards [shards]shard
}

// shard is a map of buckets threaded on a recency list, most recent first.
type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	// head is the sentinel of the circular recency list: head.next is the most recently
	// used bucket, head.prev the least.
	head bucket
	max  int
}

// bucket is one key's token bucket and its place in the recency list.
type bucket struct {
	key        string
	tokens     float64
	last       time.Time
	prev, next *bucket
}

func newStore(capacity int) *store {
	s := &store{seed: maphash.MakeSeed()}
	per := max(1, capacity/shards)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.buckets = make(map[string]*bucket)
		sh.head.prev, sh.head.next = &sh.head, &sh.head
		sh.max = per
	}
	return s
}

// take takes cost tokens from key's bucket under limit l at time now. It reports whether
// they were there and, when not, how long until they will be. A cost above the burst is
// taken as the whole burst: such a call waits for a full bucket rather than never passing.
func (s *store) take(key string, l Limit, cost float64, now time.Time) (bool, time.Duration) {
	cost = min(cost, l.Burst)
	sh := &s.shards[maphash.String(s.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.get(key, l, now)
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.Burst, b.tokens+elapsed.Seconds()*l.Rate)
		b.last = now
	}
	if b.tokens >= cost {
		b.tokens -= cost
		return true, 0
	}
	wait := time.Duration((cost - b.tokens) / l.Rate * float64(time.Second))
	return false, max(wait, time.Millisecond)
}

// get returns key's bucket, made the most recent; a new one is full, and takes the place of
// the least recently used when the shard is full.
func (sh *shard) get(key string, l Limit, now time.Time) *bucket {
	if b, ok := sh.buckets[key]; ok {
		sh.unlink(b)
		sh.pushFront(b)
		return b
	}
	var b *bucket
	if len(sh.buckets) >= sh.max {
		b = sh.head.prev
		sh.unlink(b)
		delete(sh.buckets, b.key)
		*b = bucket{}
	} else {
		b = &bucket{}
	}
	b.key, b.tokens, b.last = key, l.Burst, now
	sh.buckets[key] = b
	sh.pushFront(b)
	return b
}

func (sh *shard) unlink(b *bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (sh *shard) pushFront(b *bucket) {
	b.prev, b.next = &sh.head, sh.head.next
	sh.head.next.prev = b
	sh.head.next = b
}

// len counts the buckets held.
func (s *store) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}
