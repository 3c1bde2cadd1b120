package privacy

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestConcurrentSpendsStayWithinBudget: many spends of two consumers at once, each pausing
// after recording itself and before committing (where unserialized spends would not see each
// other, and all pass), never take a consumer past its budget: of 16 spends of
// 0.1 against a budget of 1, exactly 10 are recorded per consumer, and the others refused.
func TestConcurrentSpendsStayWithinBudget(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	pool, err := database.Open(t.Context(), database.PoolConfig{AdminURL: url, Role: Role, MaxConns: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	l := NewLedger(database.NewDB(pool), 1)
	l.beforeCommit = func() { time.Sleep(20 * time.Millisecond) }
	ctx := auth.WithClaims(t.Context(), auth.Claims{Subject: "staff-analyst", Role: auth.RoleAnalyst, Mission: auth.MissionHQ})
	at := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)

	consumers := []string{"hdx", "ctdc"}
	const each = 16
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		granted, refused = map[string]int{}, map[string]int{}
		unexpected       []error
		start            = make(chan struct{})
	)
	for _, c := range consumers {
		for range each {
			wg.Go(func() {
				<-start
				_, err := l.Spend(ctx, c, at, 0.1, "measure=PERSONS_RETURNED;group_by=SEX")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					granted[c]++
				case errors.Is(err, ErrBudgetExhausted):
					refused[c]++
				default:
					unexpected = append(unexpected, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("Spend: %v", err)
	}
	for _, c := range consumers {
		if granted[c] != 10 || refused[c] != each-10 {
			t.Errorf("%s: %d spends of 0.1 granted and %d refused against a budget of 1, want 10 and %d", c, granted[c], refused[c], each-10)
		}
		spent, left, err := l.Remaining(t.Context(), c, 2027)
		if err != nil || spent != 1 || left != 0 {
			t.Errorf("%s: Remaining = %g, %g, %v; want 1 spent, 0 left", c, spent, left, err)
		}
	}
}
