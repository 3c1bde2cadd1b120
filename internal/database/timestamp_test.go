package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestTimestampIsWhatPostgresKeeps: a time with nanoseconds, in another zone, comes back from
// a timestamptz as Timestamp has it, and Timestamp's own result comes back unchanged.
func TestTimestampIsWhatPostgresKeeps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := database.Open(ctx, database.PoolConfig{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	in := time.Date(2026, 12, 7, 15, 4, 5, 123456789, time.FixedZone("WAT", 3600))
	for _, sent := range []time.Time{in, database.Timestamp(in)} {
		var back time.Time
		if err := pool.QueryRow(ctx, `SELECT $1::timestamptz`, sent).Scan(&back); err != nil {
			t.Fatal(err)
		}
		if want := database.Timestamp(in); !back.Equal(want) || back.Nanosecond() != want.Nanosecond() {
			t.Errorf("sent %v, read back %v, want %v", sent, back, want)
		}
	}
}
