package groupcommit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/groupcommit"
)

// recorder is a flush that records its batches; while gate is non-nil, each flush waits on it.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	started chan struct{}
	gate    chan struct{}
}

func (r *recorder) flush(_ context.Context, items []int) {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, slices.Clone(items))
}

func (r *recorder) got() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func TestAloneIsFlushedAtOnce(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	b := groupcommit.New(groupcommit.Config{MaxBatch: 8, MaxInFlight: 1}, r.flush)
	for i := range 3 {
		if err := b.Do(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.got(); len(got) != 3 {
		t.Errorf("three calls one after another made batches %v, want three of one each", got)
	}
}

// waitQueued waits until n calls are blocked in Do (they queue behind the batch in flight).
func waitQueued(t *testing.T, b *groupcommit.Batcher[int], n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls queued, want %d", b.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestQueuedCallsShareABatch(t *testing.T) {
	t.Parallel()
	r := &recorder{started: make(chan struct{}, 16), gate: make(chan struct{})}
	b := groupcommit.New(groupcommit.Config{MaxBatch: 4, MaxInFlight: 1}, r.flush)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.Do(context.Background(), 0); err != nil {
			t.Error(err)
		}
	})
	<-r.started // the first batch, of call 0 alone, is being written
	for i := 1; i <= 6; i++ {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, b, 6)
	close(r.gate)
	wg.Wait()
	got := r.got()
	if len(got) != 3 || len(got[0]) != 1 || len(got[1]) != 4 || len(got[2]) != 2 {
		t.Fatalf("batches %v, want [0], then four queued calls, then the last two", got)
	}
	var all []int
	for _, batch := range got {
		all = append(all, batch...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("flushed %v, want every call once", all)
	}
}

func TestCallerWhoLeftBeforeItsBatchIsNotFlushed(t *testing.T) {
	t.Parallel()
	r := &recorder{started: make(chan struct{}, 16), gate: make(chan struct{})}
	b := groupcommit.New(groupcommit.Config{MaxBatch: 8, MaxInFlight: 1}, r.flush)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.Do(context.Background(), 0); err != nil {
			t.Error(err)
		}
	})
	<-r.started
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	wg.Go(func() { errc <- b.Do(ctx, 1) })
	wg.Go(func() {
		if err := b.Do(context.Background(), 2); err != nil {
			t.Error(err)
		}
	})
	waitQueued(t, b, 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Do of a cancelled caller = %v, want context.Canceled", err)
	}
	close(r.gate)
	wg.Wait()
	for _, batch := range r.got() {
		if slices.Contains(batch, 1) {
			t.Errorf("batches %v: the cancelled call was flushed", r.got())
		}
	}
}

func TestBatchesInFlightAreBounded(t *testing.T) {
	t.Parallel()
	const inFlight = 3
	var mu sync.Mutex
	running, most := 0, 0
	b := groupcommit.New(groupcommit.Config{MaxBatch: 2, MaxInFlight: inFlight}, func(_ context.Context, items []int) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			if err := b.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most > inFlight || most == 0 {
		t.Errorf("%d batches were written at once, want 1 to %d", most, inFlight)
	}
}
