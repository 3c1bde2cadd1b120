package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestUUIDsTravelAsBytes: a pool from Open encodes a google/uuid UUID with pgtype's binary
// UUID codec (not through its driver.Valuer's text), alone, in a uuid[], and as a NULL-able
// argument, and reads the same ids back.
func TestUUIDsTravelAsBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := database.Open(ctx, database.PoolConfig{URL: pgtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, format := range []int16{pgtype.BinaryFormatCode, pgtype.TextFormatCode} {
		plan := conn.Conn().TypeMap().PlanEncode(pgtype.UUIDOID, format, uuid.New())
		if _, ok := plan.(*database.UUIDEncodePlan); !ok {
			t.Errorf("format %d: uuid.UUID encodes with %T, want the registered plan", format, plan)
		}
	}

	one, many := uuid.New(), []uuid.UUID{uuid.New(), uuid.New(), uuid.Nil}
	var none any
	var gotOne uuid.UUID
	var gotMany []uuid.UUID
	var gotNone *uuid.UUID
	var text string
	if err := conn.QueryRow(ctx, `SELECT $1::uuid, $2::uuid[], $3::uuid, $1::uuid::text`, one, many, none).
		Scan(&gotOne, &gotMany, &gotNone, &text); err != nil {
		t.Fatal(err)
	}
	if gotOne != one || text != one.String() || gotNone != nil {
		t.Errorf("read back %v (%s), %v; want %v, nil", gotOne, text, gotNone, one)
	}
	if diff := cmp.Diff(many, gotMany); diff != "" {
		t.Errorf("uuid[] (-sent +read):\n%s", diff)
	}
}

// TestTimestampIsWhatPostgresKeeps: a time with nanoseconds, in another zone, comes back from
// a timestamptz as Timestamp has it, and Timestamp's own result comes back unchanged.
func TestTimestampIsWhatPostgresKeeps(t *testing.T) {
	t.Parallel()
	pool := onePool(t)
	in := time.Date(2026, 12, 7, 15, 4, 5, 123456789, time.FixedZone("WAT", 3600))
	want := database.Timestamp(in)
	for _, sent := range []time.Time{in, want} {
		var back time.Time
		if err := pool.QueryRow(context.Background(), `SELECT $1::timestamptz`, sent).Scan(&back); err != nil {
			t.Fatal(err)
		}
		if !back.Equal(want) || back.Nanosecond() != want.Nanosecond() {
			t.Errorf("sent %v, read back %v, want %v", sent, back, want)
		}
	}
}
