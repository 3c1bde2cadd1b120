package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Config bounds the GC percentage Start sets.
type Config struct {
	// MinPercent and MaxPercent bound the percentage (GOGC); 100 and 400 when zero.
	MinPercent, MaxPercent int
	// Headroom is the garbage allowed above the live heap, in bytes, while the percentage
	// is above MinPercent; 256 MiB when zero.
	Headroom uint64
}

func (c Config) withDefaults() Config {
	if c.MinPercent == 0 {
		c.MinPercent = 100
	}
	if c.MaxPercent == 0 {
		c.MaxPercent = 400
	}
	if c.Headroom == 0 {
		c.Headroom = 256 << 20
	}
	return c
}

// Percent is the GC percentage for a live heap of live bytes: the headroom as a percentage
// of the live heap, within [MinPercent, MaxPercent].
func (c Config) Percent(live uint64) int {
	c = c.withDefaults()
	if live == 0 {
		return c.MaxPercent
	}
	p := c.Headroom * 100 / live
	return int(min(max(p, uint64(c.MinPercent)), uint64(c.MaxPercent)))
}

// Start sets the GC percentage from c now and again after every collection, until the
// returned function is called. It is for a program's main: the percentage is the process's.
func Start(c Config) (stop func()) {
	c = c.withDefaults()
	var stopped atomic.Bool
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tune := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetGCPercent(c.Percent(sample[0].Value.Uint64()))
		}
	}
	tune()
	// A finalizer runs once after the collection that finds its object unreachable: each
	// run tunes and sets one on a new object, for the next collection.
	var arm func()
	arm = func() {
		sentinel := new([16]byte) // not a tiny allocation, which could share a block and outlive a cycle
		runtime.SetFinalizer(sentinel, func(*[16]byte) {
			if stopped.Load() {
				return
			}
			tune()
			arm()
		})
	}
	arm()
	return func() { stopped.Store(true) }
}
