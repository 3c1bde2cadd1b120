package idempotency

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

const settleMethod = "/passage.hasm.v1.StrandedMigrantService/CreateFund"

// settleBundle is a store over one service's real idempotency table, reached as that
// service's role through row-level security, as a handler reaches it.
type settleBundle struct {
	db    *database.DB
	store *Store
}

func setupSettle(t *testing.T) *settleBundle {
	t.Helper()
	pool, err := database.Open(context.Background(), database.PoolConfig{AdminURL: pgtest.New(t), Role: "passage_hasm"})
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return &settleBundle{db: database.NewDB(pool), store: NewStore("hasm.idempotency", "idempotency_pkey")}
}

func (b *settleBundle) key(t *testing.T, requestID uuid.UUID, req proto.Message) Key {
	t.Helper()
	k, err := NewKey(echo{}, "NER", requestID.String(), settleMethod, req)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// commit writes k's first result as a handler's batch does, and returns what the batch did.
func (b *settleBundle) commit(t *testing.T, k Key, resp proto.Message) error {
	t.Helper()
	var st database.Statement
	if err := b.store.Add(&st, []Record{{Key: k, Response: resp}}); err != nil {
		t.Fatal(err)
	}
	batch := &pgx.Batch{}
	st.Queue(batch)
	return b.db.Mission(k.Mission).SendBatch(context.Background(), batch).Close()
}

// race commits winner's first result under winnerKey, then loser's write under loserKey (the
// same mission and request id), and returns the loser's failure: a real unique violation.
func (b *settleBundle) race(t *testing.T, winnerKey, loserKey Key) error {
	t.Helper()
	if err := b.commit(t, winnerKey, wrapperspb.String("the winner's result")); err != nil {
		t.Fatalf("the winner's write: %v", err)
	}
	err := b.commit(t, loserKey, wrapperspb.String("the loser's result"))
	if !b.store.Lost(err) {
		t.Fatalf("the loser's write returned %v, want the key's unique violation", err)
	}
	return err
}

func TestSettle(t *testing.T) {
	t.Parallel()
	b := setupSettle(t)
	req := wrapperspb.String("fund NER-2026")
	// A unique violation, but on another constraint than the idempotency key's: the handler's
	// own business to map, not a lost race.
	otherUnique := &pgconn.PgError{Code: "23505", ConstraintName: "fund_code_year_key"}
	failed := errors.New("insert fund: connection reset")

	tests := []struct {
		name    string
		err     func(t *testing.T, k Key) error
		querier func(k Key) database.Querier
		ctx     func() context.Context
		wantErr func(err, in error) bool
		want    proto.Message // resp afterwards
	}{
		{
			name:    "the write committed",
			err:     func(*testing.T, Key) error { return nil },
			wantErr: func(err, _ error) bool { return err == nil },
			want:    wrapperspb.String("the loser's result"),
		},
		{
			name:    "the write failed otherwise",
			err:     func(*testing.T, Key) error { return failed },
			wantErr: func(err, in error) bool { return err == in },
			want:    wrapperspb.String("the loser's result"),
		},
		{
			name:    "another unique violation",
			err:     func(*testing.T, Key) error { return otherUnique },
			wantErr: func(err, in error) bool { return err == in },
			want:    wrapperspb.String("the loser's result"),
		},
		{
			name:    "lost to a retry of the same request",
			err:     func(t *testing.T, k Key) error { return b.race(t, k, k) },
			wantErr: func(err, _ error) bool { return err == nil },
			want:    wrapperspb.String("the winner's result"),
		},
		{
			name: "lost to another request under the same request id",
			err: func(t *testing.T, k Key) error {
				return b.race(t, b.key(t, k.RequestID, wrapperspb.String("fund NER-2027")), k)
			},
			wantErr: func(err, _ error) bool { return errors.Is(err, ErrReused) },
			want:    &wrapperspb.StringValue{},
		},
		{
			name:    "lost, and the querier cannot see the winner's record",
			err:     func(t *testing.T, k Key) error { return b.race(t, k, k) },
			querier: func(Key) database.Querier { return b.db.Mission("MLI") },
			wantErr: func(err, _ error) bool { return errors.Is(err, ErrFirstResultMissing) },
			want:    &wrapperspb.StringValue{},
		},
		{
			name: "lost, and the winner's record cannot be read",
			err:  func(t *testing.T, k Key) error { return b.race(t, k, k) },
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantErr: func(err, _ error) bool { return errors.Is(err, context.Canceled) && !b.store.Lost(err) },
			want:    &wrapperspb.StringValue{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := b.key(t, uuid.New(), req)
			in := tt.err(t, k)
			q := b.db.Mission(k.Mission)
			if tt.querier != nil {
				q = tt.querier(k)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			resp := wrapperspb.String("the loser's result")
			err := b.store.Settle(ctx, q, k, resp, in)
			if !tt.wantErr(err, in) {
				t.Errorf("Settle() = %v (given %v)", err, in)
			}
			if diff := cmp.Diff(tt.want, resp, protocmp.Transform()); diff != "" {
				t.Errorf("resp after Settle (-want +got):\n%s", diff)
			}
		})
	}
}
