package groupcommit_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/passage-cm/passage/internal/groupcommit"
)

// flushedOnce fails the test unless the batches hold every one of 0..n-1 exactly once.
func flushedOnce(t *testing.T, batches [][]int, n int) {
	t.Helper()
	var all []int
	for _, batch := range batches {
		all = append(all, batch...)
	}
	slices.Sort(all)
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(all, want) {
		t.Errorf("flushed %v, want each of 0..%d once", all, n-1)
	}
}

// A limit lowered while batches are written interrupts none of them, and the queue is then
// written by one batch at a time: no call is lost or written twice.
func TestLoweredLimitTakesEffectAsBatchesEnd(t *testing.T) {
	t.Parallel()
	started, gate := make(chan struct{}, 16), make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	// Batches begun and being written; batches after the two held that began beside another.
	begun, running, crowded := 0, 0, 0
	b := groupcommit.New(groupcommit.Config{MaxBatch: 2, MaxInFlight: 2}, func(_ context.Context, items []int) {
		mu.Lock()
		begun++
		running++
		if begun > 2 && running > 1 {
			crowded++
		}
		mu.Unlock()
		started <- struct{}{}
		<-gate
		mu.Lock()
		running--
		batches = append(batches, slices.Clone(items))
		mu.Unlock()
	})
	var wg sync.WaitGroup
	do := func(i int) {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	do(0)
	do(1)
	<-started
	<-started // two batches of one are held
	for i := 2; i < 9; i++ {
		do(i)
	}
	waitQueued(t, b, 7)
	b.SetMaxInFlight(1)
	if got := b.MaxInFlight(); got != 1 {
		t.Errorf("MaxInFlight after SetMaxInFlight(1) = %d", got)
	}
	close(gate)
	wg.Wait()
	if crowded != 0 {
		t.Errorf("%d batches began beside another after the limit was lowered to 1", crowded)
	}
	// The two held, then the seven queued calls two at a time.
	if len(batches) != 6 {
		t.Errorf("batches %v, want 6", batches)
	}
	flushedOnce(t, batches, 9)
}

// A limit raised while calls are queued starts batches for them at once, beside the one
// already being written.
func TestRaisedLimitStartsQueuedCalls(t *testing.T) {
	t.Parallel()
	r := &recorder{started: make(chan struct{}, 16), gate: make(chan struct{})}
	b := groupcommit.New(groupcommit.Config{MaxBatch: 2, MaxInFlight: 1}, r.flush)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
		if i == 0 {
			<-r.started // the first batch is held
		}
	}
	waitQueued(t, b, 4)
	b.SetMaxInFlight(3)
	<-r.started
	<-r.started // two more batches, while the first is still held
	if n := b.Queued(); n != 0 {
		t.Errorf("%d calls still queued with three batches in flight of two each", n)
	}
	close(r.gate)
	wg.Wait()
	got := r.got()
	if len(got) != 3 {
		t.Errorf("batches %v, want the held one and two of two", got)
	}
	flushedOnce(t, got, 5)
}

// Under load, a limit changed again and again loses and doubles no call.
func TestLimitChangedUnderLoad(t *testing.T) {
	t.Parallel()
	const calls = 2000
	var mu sync.Mutex
	var batches [][]int
	running, most := 0, 0
	b := groupcommit.New(groupcommit.Config{MaxBatch: 3, MaxInFlight: 4}, func(_ context.Context, items []int) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
		running--
		batches = append(batches, slices.Clone(items))
		mu.Unlock()
	})
	stop := make(chan struct{})
	var changer sync.WaitGroup
	changer.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			b.SetMaxInFlight(n%4 + 1)
		}
	})
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(stop)
	changer.Wait()
	if most > 4 {
		t.Errorf("%d batches written at once, above the highest limit set (4)", most)
	}
	flushedOnce(t, batches, calls)
}
