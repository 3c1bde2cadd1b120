package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	t.Parallel()
	c := Config{}
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{20 << 20, 400},  // small heap: the maximum
		{64 << 20, 400},  // 256 MiB of headroom is exactly 400%
		{128 << 20, 200}, // then the headroom in bytes
		{512 << 20, 100}, // and never below the minimum
		{8 << 30, 100},   // ten million persons and more
	} {
		if got := c.Percent(tc.live); got != tc.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
	custom := Config{MinPercent: 50, MaxPercent: 800, Headroom: 100 << 20}
	if got := custom.Percent(400 << 20); got != 50 {
		t.Errorf("custom Percent(400 MiB) = %d, want 50", got)
	}
	if got := custom.Percent(10 << 20); got != 800 {
		t.Errorf("custom Percent(10 MiB) = %d, want 800", got)
	}
}

func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestStartFollowsTheLiveHeap: as the live heap grows past the headroom, a collection later
// the percentage drops; when it shrinks, it rises again. Not parallel: the percentage is the
// process's.
func TestStartFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	stop := Start(Config{MinPercent: 100, MaxPercent: 400, Headroom: 8 << 20})
	defer stop()
	// Wait for the tuner to have seen a collection: the percentage is set by the finalizer.
	await := func(want func(int64) bool) int64 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			if p := gogc(); want(p) || time.Now().After(deadline) {
				return p
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	live := make([]byte, 64<<20) // 64 MiB live: 8 MiB of headroom is below the minimum
	for i := range live {
		live[i] = byte(i)
	}
	if p := await(func(p int64) bool { return p == 100 }); p != 100 {
		t.Fatalf("with 64 MiB live: GOGC %d, want 100", p)
	}
	runtime.KeepAlive(live)
	live = nil
	if p := await(func(p int64) bool { return p > 100 }); p <= 100 {
		t.Fatalf("with the 64 MiB gone: GOGC %d, want above 100", p)
	}
	stop()
}
