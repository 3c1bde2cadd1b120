package vault_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// BenchmarkRewrap measures the online re-wrap after a KEK rotation, per data key, on a real
// Postgres: go test -run x -bench Rewrap -benchtime 20000x ./internal/vault/ (b.N rows).
func BenchmarkRewrap(b *testing.B) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	dir := b.TempDir()
	keys, err := vault.LoadOrCreateDevKeyring(dir)
	if err != nil {
		b.Fatal(err)
	}
	p := &commonv1.Person{GivenName: "Bench", FamilyName: "Mark", Nationality: "NER"}
	for done := 0; done < b.N; {
		n := min(1000, b.N-done)
		entries := make([]vault.Entry, n)
		for i := range entries {
			id := uuid.New()
			s, err := keys.Seal(id, p)
			if err != nil {
				b.Fatal(err)
			}
			entries[i] = vault.Entry{SubjectID: id, Sealed: s}
		}
		var st database.Statement
		vault.AddPut(&st, "NER", entries)
		batch := &pgx.Batch{}
		st.Queue(batch)
		if err := pool.SendBatch(ctx, batch).Close(); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	rotateInMemory(b, dir, keys)
	b.ResetTimer()
	got, err := vault.Rewrap(ctx, pool, keys, 500, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got.Rewrapped != int64(b.N) || got.Remaining != 0 {
		b.Fatalf("rewrapped %d of %d, %d remaining", got.Rewrapped, b.N, got.Remaining)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}
