package mutation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/pgtest"
)

// The tests change a thing: a tiny aggregate of their own (a note, at a version, in a
// mission), with its own idempotency table, and the shared outbox and audit tables.

type thing struct {
	id            uuid.UUID
	mission, note string
	version       int64
}

// The Kind's errors, and a Change's.
var errBadRef, errMissing, errRefused = errors.New("bad ref"), errors.New("no such thing"), errors.New("refused by the change")

// staleError is the Kind's stale error: it says which thing (ref), at which version (current).
type staleError struct{ ref, current string }

func (e *staleError) Error() string { return e.ref + " is at version " + e.current }

var (
	now = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	who = auth.Claims{Subject: "caseworker-1", Role: auth.RoleCaseworker, Mission: "NER"}
)

// fixture is one test's database: a thing at version 1 and the Kind that changes it.
type fixture struct {
	pool  *pgxpool.Pool
	kind  mutation.Kind[*thing]
	thing uuid.UUID
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.New(t))
	if err == nil {
		t.Cleanup(pool.Close)
		_, err = pool.Exec(ctx, `CREATE TABLE thing (id uuid PRIMARY KEY, mission text NOT NULL, version bigint NOT NULL,
  note text NOT NULL, updated_at timestamptz);
CREATE TABLE thing_idempotency (LIKE hasm.idempotency INCLUDING ALL)`)
	}
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pool: pool, thing: uuid.New()}
	if _, err := pool.Exec(ctx, `INSERT INTO thing (id, mission, version, note) VALUES ($1, 'NER', 1, 'first')`, f.thing); err != nil {
		t.Fatal(err)
	}
	f.kind = mutation.Kind[*thing]{
		DB: database.NewDB(pool), Idem: idempotency.NewStore("thing_idempotency", "thing_idempotency_pkey"),
		Producer: "things", Clock: func() time.Time { return now },
		Parse: func(ref string) (uuid.UUID, error) {
			id, err := uuid.Parse(ref)
			if err != nil {
				return uuid.Nil, errBadRef
			}
			return id, nil
		},
		Lock:    lockThing(`FOR UPDATE`),
		Version: func(a *thing) int64 { return a.version },
		Mission: func(a *thing) string { return a.mission },
		Stale:   func(ref string, a *thing) error { return &staleError{ref: ref, current: fmt.Sprint(a.version)} },
		Save: func(a *thing, s *mutation.Step) {
			a.version = s.Version
			s.Batch.Queue(`UPDATE thing SET note = $2, version = $3, updated_at = $4 WHERE id = $1`, a.id, a.note, a.version, s.Now)
		},
	}
	return f
}

// lockThing reads a thing, with lock ("FOR UPDATE", or "" to read without locking).
func lockThing(lock string) func(context.Context, pgx.Tx, auth.Claims, uuid.UUID) (*thing, error) {
	return func(ctx context.Context, tx pgx.Tx, _ auth.Claims, id uuid.UUID) (*thing, error) {
		a := &thing{}
		err := tx.QueryRow(ctx, `SELECT id, mission, version, note FROM thing WHERE id = $1 `+lock, id).
			Scan(&a.id, &a.mission, &a.version, &a.note)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errMissing
		}
		return a, err
	}
}

// call is one Mutation of the fixture's thing under a new request id, at version.
func (f *fixture) call(version int64) mutation.Mutation {
	return mutation.Mutation{Who: who, Ref: f.thing.String(), Version: version, Resp: &wrapperspb.StringValue{},
		Key: idempotency.Key{Mission: who.Mission, RequestID: uuid.New(), Method: "/test.Things/Write", Fingerprint: []byte("write")}}
}

// write is a Change that sets the note and answers with it and the tag, so that two calls'
// answers differ.
func write(note, tag string, resp proto.Message) mutation.Change[*thing] {
	return func(a *thing, s *mutation.Step) (proto.Message, error) {
		a.note = note
		resp.(*wrapperspb.StringValue).Value = fmt.Sprintf("%s at %d by %s", note, s.Version, tag)
		return wrapperspb.String(note), nil
	}
}

// state is everything a change writes, as the database holds it.
type state struct {
	version                 int64
	note                    string
	events, audits, results int
}

func (f *fixture) state(t *testing.T) state {
	t.Helper()
	ctx := context.Background()
	var s state
	err := f.pool.QueryRow(ctx, `SELECT version, note,
  (SELECT count(*) FROM outbox.event WHERE aggregate_id = $1),
  (SELECT count(*) FROM audit.record WHERE aggregate_id = $1),
  (SELECT count(*) FROM thing_idempotency)
FROM thing WHERE id = $1`, f.thing).Scan(&s.version, &s.note, &s.events, &s.audits, &s.results)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) wantState(t *testing.T, want state) {
	t.Helper()
	if got := f.state(t); got != want {
		t.Fatalf("state = %+v, want %+v", got, want)
	}
}

var untouched = state{version: 1, note: "first"}

// second runs m, writing the note "second", and checks that it was written once.
func (f *fixture) second(t *testing.T, m mutation.Mutation, tag string) {
	t.Helper()
	if err := f.kind.Run(context.Background(), m, write("second", tag, m.Resp)); err != nil {
		t.Fatal(err)
	}
	f.wantState(t, state{version: 2, note: "second", events: 1, audits: 1, results: 1})
}

func TestChangeCommitsWithOneEventAndOneAuditRecord(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	var applied bool
	m := f.call(1)
	m.Applied = &applied
	if err := f.kind.Run(ctx, m, write("second", "a", m.Resp)); err != nil {
		t.Fatal(err)
	}
	if got := m.Resp.(*wrapperspb.StringValue).GetValue(); got != "second at 2 by a" || !applied {
		t.Fatalf("response %q, applied %v; want the change's, applied", got, applied)
	}
	f.wantState(t, state{version: 2, note: "second", events: 1, audits: 1, results: 1})

	var (
		producer, eventType, eventMission string
		payload                           []byte
		updated                           time.Time
	)
	if err := f.pool.QueryRow(ctx, `SELECT e.producer, e.event_type, e.mission, e.payload, t.updated_at
FROM outbox.event e, thing t WHERE e.aggregate_id = $1 AND t.id = $1`, f.thing).
		Scan(&producer, &eventType, &eventMission, &payload, &updated); err != nil {
		t.Fatal(err)
	}
	event := &wrapperspb.StringValue{}
	if err := proto.Unmarshal(payload, event); err != nil {
		t.Fatal(err)
	}
	if producer != "things" || eventType != "google.protobuf.StringValue" || eventMission != "NER" || event.GetValue() != "second" {
		t.Errorf("event %s %s %s %q; want the Kind's producer, the Change's event, the thing's mission", producer, eventType, eventMission, event.GetValue())
	}
	if !updated.Equal(now) {
		t.Errorf("saved at %v, want the Kind's clock %v", updated, now)
	}
	var actor, auditMission string
	var clientRequest uuid.UUID
	if err := f.pool.QueryRow(ctx, `SELECT actor, mission, client_request_id FROM audit.record WHERE aggregate_id = $1`, f.thing).
		Scan(&actor, &auditMission, &clientRequest); err != nil {
		t.Fatal(err)
	}
	if actor != who.Subject || auditMission != "NER" || clientRequest != m.Key.RequestID {
		t.Errorf("audit record by %s in %s for request %s; want the caller, the thing's mission, the request id", actor, auditMission, clientRequest)
	}
}

func TestReplayAnswersTheFirstResultAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	first := f.call(1)
	if err := f.kind.Run(ctx, first, write("second", "first call", first.Resp)); err != nil {
		t.Fatal(err)
	}
	after := f.state(t)

	// The retry read version 1, which is stale by now: a replay checks no version.
	retry := first
	retry.Resp = &wrapperspb.StringValue{}
	applied := true
	retry.Applied = &applied
	ran := false
	err := f.kind.Run(ctx, retry, func(*thing, *mutation.Step) (proto.Message, error) {
		ran = true
		return wrapperspb.String("again"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ran || applied {
		t.Errorf("replay ran the change (%v) or reported it applied (%v)", ran, applied)
	}
	if !proto.Equal(retry.Resp, first.Resp) {
		t.Errorf("replay answered %v, want the first result %v", retry.Resp, first.Resp)
	}
	f.wantState(t, after)
}

func TestStaleVersionFailsWithTheKindsErrorAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.call(7)
	ran := false
	err := f.kind.Run(context.Background(), m, func(*thing, *mutation.Step) (proto.Message, error) {
		ran = true
		return wrapperspb.String("never"), nil
	})
	var stale *staleError
	if !errors.As(err, &stale) || stale.current != "1" || stale.ref != m.Ref {
		t.Fatalf("err = %v, want the Kind's stale error naming %s at version 1", err, m.Ref)
	}
	if ran {
		t.Error("the change ran at a stale version")
	}
	f.wantState(t, untouched)
}

func TestFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		change mutation.Change[*thing]
		want   func(error) bool
	}{
		{"the change refuses", func(a *thing, s *mutation.Step) (proto.Message, error) {
			a.note = "half-done"
			s.Batch.Queue(`UPDATE thing SET note = 'half-done' WHERE id = $1`, a.id)
			return nil, errRefused
		}, func(err error) bool { return err == errRefused }},
		{"a write of the change fails", func(a *thing, s *mutation.Step) (proto.Message, error) {
			s.Batch.Queue(`INSERT INTO thing (id, mission, version, note) VALUES ($1, 'NER', 1, 'side write')`, uuid.New())
			a.note = "written"
			s.Batch.Queue(`INSERT INTO thing (id, mission, version, note) VALUES ($1, 'NER', 1, 'again')`, a.id)
			return wrapperspb.String(a.note), nil
		}, func(err error) bool { return database.IsUniqueViolation(err, "thing_pkey") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			m := f.call(1)
			applied := true
			m.Applied = &applied
			err := f.kind.Run(context.Background(), m, tt.change)
			if !tt.want(err) || applied {
				t.Fatalf("err = %v, applied %v; want the failure as it was, not applied", err, applied)
			}
			f.wantState(t, untouched)
			var others int
			if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM thing`).Scan(&others); err != nil || others != 1 {
				t.Fatalf("%d things (%v), want the one: the change's own writes roll back with it", others, err)
			}
			// No first result was kept: the same request, retried, makes the change.
			f.second(t, m, "retry")
		})
	}
}

func TestKindErrorsAreReturnedUnchanged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	never := func(*thing, *mutation.Step) (proto.Message, error) {
		t.Error("the change ran")
		return nil, nil
	}
	bad := f.call(1)
	bad.Ref = "not-an-id"
	if err := f.kind.Run(ctx, bad, never); err != errBadRef {
		t.Errorf("bad ref: err = %v, want the Kind's parse error as it is", err)
	}
	missing := f.call(1)
	missing.Ref = uuid.NewString()
	if err := f.kind.Run(ctx, missing, never); err != errMissing {
		t.Errorf("missing: err = %v, want the Kind's not-found error as it is", err)
	}
	f.wantState(t, untouched)
}

// race runs two calls with one request id at once, each with its own answer, and checks
// that both answer alike and the thing changed once, by exactly one of them.
func race(t *testing.T, f *fixture, change func(tag string, resp proto.Message) mutation.Change[*thing]) {
	t.Helper()
	m := f.call(1)
	both(t, func(i int, resp *wrapperspb.StringValue, applied *bool) error {
		mi := m
		mi.Resp, mi.Applied = resp, applied
		return f.kind.Run(context.Background(), mi, change(fmt.Sprint("call ", i), resp))
	})
	f.wantState(t, state{version: 2, note: "second", events: 1, audits: 1, results: 1})
}

// both makes calls 0 and 1 at once, each with its own response, and checks that both
// succeed, answer alike, and exactly one reports its change applied; it returns which.
func both(t *testing.T, call func(i int, resp *wrapperspb.StringValue, applied *bool) error) (winner int) {
	t.Helper()
	var (
		wg      sync.WaitGroup
		resps   = [2]*wrapperspb.StringValue{{}, {}}
		errs    [2]error
		applied [2]bool
	)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = call(i, resps[i], &applied[i])
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || applied[0] == applied[1] {
		t.Fatalf("errors %v, %v, applied %v; want both calls to succeed, one applied", errs[0], errs[1], applied)
	}
	if !proto.Equal(resps[0], resps[1]) {
		t.Errorf("answers %q and %q, want alike", resps[0].GetValue(), resps[1].GetValue())
	}
	if applied[1] {
		return 1
	}
	return 0
}

func TestRacingRetriesQueueOnTheLock(t *testing.T) {
	t.Parallel()
	f := setup(t)
	race(t, f, func(tag string, resp proto.Message) mutation.Change[*thing] { return write("second", tag, resp) })
}

// TestLostRaceIsSettled makes both calls pass the replay before either writes (the Kind does
// not lock, and each change waits for the other to start): one then loses the idempotency
// record's race, and answers with the winner's first result.
func TestLostRaceIsSettled(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.kind.Lock = lockThing("")
	var started atomic.Int32
	both := make(chan struct{})
	race(t, f, func(tag string, resp proto.Message) mutation.Change[*thing] {
		return func(a *thing, s *mutation.Step) (proto.Message, error) {
			if started.Add(1) == 2 {
				close(both)
			}
			<-both
			return write("second", tag, resp)(a, s)
		}
	})
}

func TestAggregateWithoutVersionAndChangeWithoutEvent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.kind.Version, f.kind.Stale, f.kind.Save = nil, nil, nil
	m := f.call(42) // no version to be stale against
	err := f.kind.Run(context.Background(), m, func(a *thing, s *mutation.Step) (proto.Message, error) {
		if s.Version != 0 || !s.Now.Equal(now) {
			t.Errorf("step at version %d, time %v; want 0 and the Kind's clock", s.Version, s.Now)
		}
		s.Batch.Queue(`UPDATE thing SET note = 'audited' WHERE id = $1`, a.id)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.wantState(t, state{version: 1, note: "audited", events: 0, audits: 1, results: 1})
}

func TestPartnersWorkInTheirPartnersTransaction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	partner := auth.Claims{Subject: "agency-user", Role: auth.RolePartner, Partner: uuid.NewString()}
	f.kind.Partners = true
	lock := f.kind.Lock
	f.kind.Lock = func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*thing, error) {
		var declared, mission string
		if err := tx.QueryRow(ctx, `SELECT current_setting($1, true), coalesce(current_setting($2, true), '')`,
			database.PartnerSetting, database.MissionSetting).Scan(&declared, &mission); err != nil {
			return nil, err
		}
		if declared != partner.Partner || mission != "" {
			t.Errorf("transaction declared partner %q, mission %q; want the caller's partner alone", declared, mission)
		}
		return lock(ctx, tx, who, id)
	}
	m := f.call(1)
	m.Who, m.Key.Mission = partner, partner.Partner
	f.second(t, m, "partner")
}

func TestAwaitRunsEachAttempt(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	late := uuid.New()
	f.kind.Await = func(ctx context.Context, id uuid.UUID, attempt func() error) error {
		if err := attempt(); !errors.Is(err, errMissing) || id != late {
			return fmt.Errorf("first attempt on %s: %v, want %s missing", id, err, late)
		}
		// The thing arrives (as a projection would catch up), and the attempt is run again.
		if _, err := f.pool.Exec(ctx, `INSERT INTO thing (id, mission, version, note) VALUES ($1, 'NER', 1, 'late')`, late); err != nil {
			return err
		}
		return attempt()
	}
	m := f.call(1)
	m.Ref = late.String()
	if err := f.kind.Run(ctx, m, write("second", "a", m.Resp)); err != nil {
		t.Fatal(err)
	}
	var version int64
	if err := f.pool.QueryRow(ctx, `SELECT version FROM thing WHERE id = $1`, late).Scan(&version); err != nil || version != 2 {
		t.Fatalf("late thing at version %d (%v), want 2", version, err)
	}
}

// creation is a New of a thing, with its first result.
func (f *fixture) creation(id uuid.UUID, tag string) mutation.New {
	return mutation.New{Who: who, ID: id, Mission: "NER", Resp: wrapperspb.String("created by " + tag),
		Key: idempotency.Key{Mission: who.Mission, RequestID: uuid.New(), Method: "/test.Things/Create", Fingerprint: []byte("create")}}
}

// insert is a Write of a new thing.
func insert(id uuid.UUID) mutation.Write {
	return func(b *pgx.Batch) (proto.Message, error) {
		b.Queue(`INSERT INTO thing (id, mission, version, note) VALUES ($1, 'NER', 1, 'new')`, id)
		return wrapperspb.String("new"), nil
	}
}

// created is what the database holds of the creation of a thing.
func (f *fixture) created(t *testing.T, id uuid.UUID) (things, events, audits, results int) {
	t.Helper()
	err := f.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM thing WHERE id = $1),
  (SELECT count(*) FROM outbox.event WHERE aggregate_id = $1 AND mission = 'NER' AND producer = 'things'),
  (SELECT count(*) FROM audit.record WHERE aggregate_id = $1 AND mission = 'NER' AND actor = $2),
  (SELECT count(*) FROM thing_idempotency)`, id, who.Subject).Scan(&things, &events, &audits, &results)
	if err != nil {
		t.Fatal(err)
	}
	return things, events, audits, results
}

func (f *fixture) creator() *mutation.Creator {
	return &mutation.Creator{DB: f.kind.DB, Idem: f.kind.Idem, Producer: "things"}
}

func TestCreateCommitsWithOneEventAndOneAuditRecord(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := uuid.New()
	n := f.creation(id, "a")
	applied := false
	n.Applied = &applied
	if err := f.creator().Create(context.Background(), n, insert(id)); err != nil || !applied {
		t.Fatalf("err = %v, applied %v; want the creation committed", err, applied)
	}
	if things, events, audits, results := f.created(t, id); things != 1 || events != 1 || audits != 1 || results != 1 {
		t.Fatalf("%d things, %d events, %d audit records, %d first results; want one each", things, events, audits, results)
	}
	// The stored first result is the response: a retry's replay answers it.
	replayed := &wrapperspb.StringValue{}
	if found, err := f.kind.Idem.Replay(context.Background(), f.kind.DB.Mission("NER"), n.Key, replayed); !found || err != nil ||
		replayed.GetValue() != "created by a" {
		t.Fatalf("replay: %v %v %q, want the first result", found, err, replayed.GetValue())
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := uuid.New()
	err := f.creator().Create(context.Background(), f.creation(id, "a"), func(b *pgx.Batch) (proto.Message, error) {
		insert(id)(b)
		b.Queue(`INSERT INTO thing (id, mission, version, note) VALUES ($1, 'NER', 1, 'duplicate')`, id)
		return wrapperspb.String("new"), nil
	})
	if !database.IsUniqueViolation(err, "thing_pkey") {
		t.Fatalf("err = %v, want the aggregate's own unique violation as it is", err)
	}
	refused := f.creator().Create(context.Background(), f.creation(id, "b"), func(*pgx.Batch) (proto.Message, error) {
		return nil, errRefused
	})
	if refused != errRefused {
		t.Fatalf("err = %v, want the Write's error as it is", refused)
	}
	if things, events, audits, results := f.created(t, id); things+events+audits+results != 0 {
		t.Fatalf("%d things, %d events, %d audit records, %d first results; want none", things, events, audits, results)
	}
}

// TestCreateLostRaceIsSettled: two creations under one request id, at once; one commits and
// both answer with its first result.
func TestCreateLostRaceIsSettled(t *testing.T) {
	t.Parallel()
	f := setup(t)
	key := f.creation(uuid.Nil, "").Key
	ids := [2]uuid.UUID{uuid.New(), uuid.New()}
	winner := both(t, func(i int, resp *wrapperspb.StringValue, applied *bool) error {
		n := f.creation(ids[i], fmt.Sprint("call ", i))
		resp.Value = n.Resp.(*wrapperspb.StringValue).GetValue()
		n.Key, n.Resp, n.Applied = key, resp, applied
		return f.creator().Create(context.Background(), n, insert(ids[i]))
	})
	if things, events, audits, _ := f.created(t, ids[winner]); things != 1 || events != 1 || audits != 1 {
		t.Errorf("winner: %d things, %d events, %d audit records; want one each", things, events, audits)
	}
	if things, events, audits, _ := f.created(t, ids[1-winner]); things+events+audits != 0 {
		t.Errorf("loser: %d things, %d events, %d audit records; want none", things, events, audits)
	}
}
