package idempotency

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
)

// ErrReused reports a request id already used for a different request.
var ErrReused = errors.New("request_id was already used for a different request")

// ErrFirstResultMissing reports a write that lost the race for its key to a request that
// committed first, whose first result the querier then could not find: the querier was not
// declared for the key's mission (or scope), or the record is gone. Neither call's result can
// be given: this one's write was rolled back and the winner's is unreadable.
var ErrFirstResultMissing = errors.New("idempotency: a racing request committed the request id first, but its result cannot be found")

// Store keeps first results in one service's idempotency table, keyed by the caller's mission
// and the request id so that missions can never see each other's results. The tables are
// under row-level security as well: the Querier or batch must be declared for the key's
// mission (database.DB.Mission, MissionTx).
type Store struct {
	table      string // schema-qualified, e.g. "intake.idempotency"
	constraint string // its primary key constraint, e.g. "idempotency_pkey"
}

// NewStore returns a store over table, whose primary key constraint is named constraint.
// Both are trusted constants of the calling service, never input.
func NewStore(table, constraint string) *Store {
	return &Store{table: table, constraint: constraint}
}

// Key identifies one request.
type Key struct {
	Mission   string
	RequestID uuid.UUID
	// Method names the RPC, usually by its full gRPC method name.
	Method string
	// Fingerprint is a keyed hash of the request, to tell a retry from a reused id.
	Fingerprint []byte
}

// Replay looks up k. When a first result exists it is unmarshalled into resp and Replay
// returns true; when it was stored for another method or request, it returns ErrReused.
func (s *Store) Replay(ctx context.Context, q database.Querier, k Key, resp proto.Message) (bool, error) {
	return s.scan(q.QueryRow(ctx, s.lookup(), k.Mission, k.RequestID), k, resp)
}

func (s *Store) lookup() string {
	return `SELECT method, fingerprint, response FROM ` + s.table + ` WHERE mission = $1 AND request_id = $2`
}

func (s *Store) scan(row pgx.Row, k Key, resp proto.Message) (bool, error) {
	var method string
	var fingerprint, stored []byte
	err := row.Scan(&method, &fingerprint, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("idempotency: look up: %w", err)
	}
	if method != k.Method || !bytes.Equal(fingerprint, k.Fingerprint) {
		return false, ErrReused
	}
	if err := proto.Unmarshal(stored, resp); err != nil {
		return false, fmt.Errorf("idempotency: stored response: %w", err)
	}
	return true, nil
}

// Record is a request's first result, to store: its key and the response it answered.
type Record struct {
	Key      Key
	Response proto.Message
}

// Add adds the inserts of records to st as its part "idempotency", so that each first result
// commits or rolls back with its change. One record is a slice of one, and a group commit's
// records go in one call: a statement holds one such part. Should a racing retry commit one
// of the keys first, the statement fails with a unique violation (see Lost) and nothing of it
// stays: Postgres may run the statement's parts in any order, but whichever runs first, the
// insert of a key taken by a transaction in flight waits until that one commits. Where a batch
// carries the change, queue the statement (database.Statement.Queue) before the change's own
// writes, so that a racing retry fails on the key rather than on another constraint of the
// change.
func (s *Store) Add(st *database.Statement, records []Record) error {
	n := len(records)
	missions, ids, methods := make([]string, n), make([]uuid.UUID, n), make([]string, n)
	fingerprints, stored := make([][]byte, n), make([][]byte, n)
	for i, r := range records {
		k := r.Key
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r.Response)
		if err != nil {
			return fmt.Errorf("idempotency: marshal response: %w", err)
		}
		missions[i], ids[i], methods[i], fingerprints[i], stored[i] = k.Mission, k.RequestID, k.Method, k.Fingerprint, b
	}
	st.Add("idempotency", `INSERT INTO `+s.table+` (mission, request_id, method, fingerprint, response)
SELECT * FROM unnest(`+st.Arg(missions)+`::text[], `+st.Arg(ids)+`::uuid[], `+st.Arg(methods)+`::text[], `+
		st.Arg(fingerprints)+`::bytea[], `+st.Arg(stored)+`::bytea[])`)
	return nil
}

// Found is a first result that ReplayAll found: the stored response (still marshalled), or
// Err when the request id was used for another request.
type Found struct {
	Response []byte
	Err      error
}

// QueueReplayAll adds to b the look-up of every key, all of one mission, in one statement.
// When the batch is closed, out holds the keys that have a first result, by request id.
func (s *Store) QueueReplayAll(b *pgx.Batch, mission string, keys []Key, out map[uuid.UUID]Found) {
	byID := make(map[uuid.UUID]Key, len(keys))
	ids := make([]uuid.UUID, 0, len(keys))
	for _, k := range keys {
		if k.Mission != mission {
			panic("idempotency: QueueReplayAll over keys of several missions")
		}
		byID[k.RequestID] = k
		ids = append(ids, k.RequestID)
	}
	b.Queue(`SELECT request_id, method, fingerprint, response FROM `+s.table+` WHERE mission = $1 AND request_id = ANY($2)`,
		mission, ids).Query(func(rows pgx.Rows) error {
		var id uuid.UUID
		var method string
		var fingerprint, stored []byte
		_, err := pgx.ForEachRow(rows, []any{&id, &method, &fingerprint, &stored}, func() error {
			k := byID[id]
			if method != k.Method || !bytes.Equal(fingerprint, k.Fingerprint) {
				out[id] = Found{Err: ErrReused}
				return nil
			}
			out[id] = Found{Response: bytes.Clone(stored)}
			return nil
		})
		if err != nil {
			return fmt.Errorf("idempotency: look up: %w", err)
		}
		return nil
	})
}

// Lost reports whether err means another call with the same key committed first; the caller
// should then Replay (Settle does both).
func (s *Store) Lost(err error) bool {
	return database.IsUniqueViolation(err, s.constraint)
}

// Settle is how a mutating handler ends: it turns err, what writing k's change and first
// result returned, into what the handler should return. When err says the write lost the race
// for k to a racing retry that committed first (see Lost), the caller's own result was rolled
// back with its change, so Settle reads the winner's first result through q into resp and
// returns nil: both calls then answer alike, as a retry after the first would. It returns what
// that read fails with instead (ErrReused when the winner was another request under the same
// request id, ErrFirstResultMissing when q cannot see its record), never the winner's unique
// violation. In every lost case resp is reset first, so that it never holds the rolled-back
// result. Any other err, nil included, is returned as it is and resp is left untouched.
//
// q must be declared for k's mission (database.DB.Mission) and, where the table is scoped
// further, for the caller's scope; it must not be the transaction that failed, which is over.
func (s *Store) Settle(ctx context.Context, q database.Querier, k Key, resp proto.Message, err error) error {
	if !s.Lost(err) {
		return err
	}
	proto.Reset(resp)
	found, rerr := s.Replay(ctx, q, k, resp)
	switch {
	case rerr != nil:
		return rerr
	case !found:
		return ErrFirstResultMissing
	}
	return nil
}
