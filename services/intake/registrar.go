package intake

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/groupcommit"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/procshare"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Registrations that arrive together are written together (internal/groupcommit): one
// look-up and one statement for the whole batch, so that Postgres sets up each table's insert
// (relations, indexes, row-level security, foreign-key triggers), parses, binds and commits
// once per batch instead of once per case. Under load that is most of a registration's cost
// in Postgres. Alone, a registration is a batch of one and waits for nobody; there is no
// other way a registration is written.
//
// What a registration guarantees holds for each member of a batch as it does alone:
//   - Idempotency: the batch looks every member's request id up first; a replay gets its first
//     result and writes nothing. A request id twice in one batch is written once, by the first;
//     the second then finds it, in a batch of its own after. A racing retry in another batch
//     that commits first makes this batch's statement fail on the key: then every member is
//     written again as a batch of one, look-up included, so one member's failure fails no
//     other, and the retry's member replays its first result (and a batch of one that loses
//     the race between its look-up and its write reads the winner's: idempotency.Store.Settle).
//     A failure of the database itself (database.Classify) is every member's answer as it is,
//     outcome unknown included: writing each again would fail again and replace it with a
//     look-up's failure.
//   - Duplicate flagging: every member is checked against the mission's committed people, as
//     alone, and also against the members written before it in the same batch, as if they had
//     committed first (whose only staff is their registrant), and shown to its caller as
//     alone (duplicates.go). (Two registrations racing outside a batch see neither each other; two in
//     one batch are always flagged, by the later one.)
//   - Row-level security: a batch is split by mission, and each mission's part is declared for
//     that mission alone.
//   - Audit and outbox: each member's audit record and CaseRegistered event are written in the
//     same statement as its case; records and events take their ids in the batch's order,
//     which is therefore their order in the mission's audit chain and in the outbox.

// Group commit bounds. Two batches in flight on the database: while one waits for its commit
// to reach the disk the other is written, and at 32 concurrent clients on two cores batches
// average about seven registrations (four in flight made them half as large and cost more
// Postgres time per case; see docs/benchmarks/registercase.md). That is the budget of all the
// processes that run intake on one database together: each takes its share (registerShare),
// so that two processes each write one batch at a time, as large as one process's
// (docs/benchmarks/replicas.md). 32 is the benchmark's concurrency: no batch waits for more.
const (
	registerBatchMax      = 32
	registerBatchInFlight = 2
	// registerBatchTimeout bounds a batch's database work: a batch outlives any one caller's
	// cancellation, but not a database that stopped answering.
	registerBatchTimeout = 30 * time.Second
)

// pendingCase is one RegisterCase on its way to the database: what the handler prepared
// alone, then, once its batch is written, the answer (resp or err).
type pendingCase struct {
	key      idempotency.Key
	who      auth.Claims
	c        *intakev1.Case
	audit    audit.Entry
	subjects []uuid.UUID
	indexes  [][]vault.BlindIndex
	entries  []vault.Entry
	digests  [][]byte

	resp *intakev1.RegisterCaseResponse
	err  error
}

func (s *Service) newRegistrar(cfg groupcommit.Config) *groupcommit.Batcher[*pendingCase] {
	return groupcommit.New(cfg, s.writeRegistrations)
}

// registerShare keeps this process's share of the registration batches in flight: the budget
// (WithRegisterBatchesInFlight) divided between the intake processes live on pool's database,
// counted by their pools' application names (internal/procshare; internal/bootstrap names
// them), at least 1. Until its first count the process takes the whole budget.
func (s *Service) registerShare(pool procshare.Querier, logger *slog.Logger) *procshare.Divider {
	return procshare.New(pool, procshare.Config{Kind: producer, Budget: s.batch.MaxInFlight,
		Apply: s.registrar.SetMaxInFlight, Logger: logger})
}

// writeRegistrations writes a batch, one mission at a time, and settles every member.
func (s *Service) writeRegistrations(ctx context.Context, batch []*pendingCase) {
	ctx, cancel := context.WithTimeout(ctx, registerBatchTimeout)
	defer cancel()
	byMission := map[string][]*pendingCase{}
	var missions []string
	for _, r := range batch {
		if _, ok := byMission[r.c.Mission]; !ok {
			missions = append(missions, r.c.Mission)
		}
		byMission[r.c.Mission] = append(byMission[r.c.Mission], r)
	}
	for _, m := range missions {
		s.writeMission(ctx, m, byMission[m])
	}
}

// writeMission writes the registrations of one mission: one round trip of reads, then one
// statement of writes (writeCases).
func (s *Service) writeMission(ctx context.Context, mission string, rs []*pendingCase) {
	// One order for every batch (by request id): two batches that share a key by a racing retry
	// then take their locks in the same order and never deadlock.
	slices.SortFunc(rs, func(a, b *pendingCase) int { return bytes.Compare(a.key.RequestID[:], b.key.RequestID[:]) })
	group, again := rs[:0:0], rs[:0:0]
	for i, r := range rs {
		if i > 0 && rs[i-1].key.RequestID == r.key.RequestID {
			again = append(again, r) // written by the first of its id, then replayed
			continue
		}
		group = append(group, r)
	}
	if s.beforeBatch != nil {
		s.beforeBatch(group)
	}

	keys := make([]idempotency.Key, len(group))
	var digests [][]byte
	for i, r := range group {
		keys[i] = r.key
		digests = append(digests, r.digests...)
	}
	found := map[uuid.UUID]idempotency.Found{}
	var matches []match
	reads := &pgx.Batch{}
	s.idem.QueueReplayAll(reads, mission, keys, found)
	queueFindMatches(reads, mission, digests, &matches)
	if err := s.db.Mission(mission).SendBatch(ctx, reads).Close(); err != nil {
		// Reads only: whatever failed, nothing of this batch was written.
		err = database.NothingApplied(fmt.Errorf("register case: look up: %w", err))
		for _, r := range rs {
			r.err = err
		}
		return
	}
	if s.afterLookup != nil {
		s.afterLookup(group)
	}

	var write []*pendingCase
	earlier := map[string][]match{} // the batch's members written before, by digest
	for _, r := range group {
		if f, ok := found[r.key.RequestID]; ok {
			r.resp, r.err = replayed(f)
			continue
		}
		seen := matches
		for _, d := range r.digests {
			seen = append(seen[:len(seen):len(seen)], earlier[string(d)]...)
		}
		check := checkDuplicates(r.who, r.subjects, r.indexes, seen)
		r.resp = &intakev1.RegisterCaseResponse{Case: r.c, SuspectedDuplicates: check.found}
		r.audit.Reason = check.reason()
		caseID := uuid.MustParse(r.c.CaseId)
		for i, ixs := range r.indexes {
			for _, ix := range ixs {
				earlier[string(ix.Digest)] = append(earlier[string(ix.Digest)],
					match{digest: ix.Digest, kind: ix.Kind.String(), caseID: caseID, subjectID: r.subjects[i], createdBy: r.who.Subject})
			}
		}
		write = append(write, r)
	}
	if len(write) > 0 {
		s.writeCases(ctx, mission, write)
	}
	if len(again) > 0 {
		// Each now finds the first result of its id, or, if that first could not be written,
		// is written as the first.
		s.writeMission(ctx, mission, again)
	}
}

// writeCases writes the registrations rs of mission, checked and their responses set, and
// settles each: with one statement for all, and when that fails for a reason of its own
// members, each as a batch of one through writeMission (look-up included), so that one
// member's failure fails no other.
func (s *Service) writeCases(ctx context.Context, mission string, rs []*pendingCase) {
	err := s.insertCases(ctx, mission, rs)
	if f, ok := database.Classify(err); ok && f.Kind == database.Unreachable && f.Outcome == database.NotApplied {
		// A connection that failed before anything was sent (one the pool had kept while
		// Postgres restarted): nothing is written, so the batch is sent once more, on a
		// fresh connection.
		err = s.insertCases(ctx, mission, rs)
	}
	_, outage := database.Classify(err)
	switch {
	case err == nil:
	case outage:
		// The database failed, not a member: every member gets that failure as it is,
		// outcome unknown included, for its caller to retry with its request id. Writing
		// each alone would only fail again, and hide the outcome.
		for _, r := range rs {
			r.resp, r.err = nil, err
		}
	case len(rs) > 1:
		// Someone's racing retry committed first, or one member cannot be written: each is
		// written as a batch of its own, so that the others still commit and the retry's
		// member finds its first result.
		for _, r := range rs {
			s.writeMission(ctx, mission, []*pendingCase{r})
		}
	default:
		// A batch of one failed on its own account: when a racing retry committed its
		// request id first, its answer is the retry's first result (Settle); otherwise the
		// failure is.
		r := rs[0]
		if err := s.idem.Settle(ctx, s.db.Mission(mission), r.key, r.resp, err); err != nil {
			r.resp, r.err = nil, toStatus(err)
		}
	}
}

// replayed is the answer to a registration whose request id already has a first result.
func replayed(f idempotency.Found) (*intakev1.RegisterCaseResponse, error) {
	if f.Err != nil {
		return nil, toStatus(f.Err)
	}
	resp := &intakev1.RegisterCaseResponse{}
	if err := proto.Unmarshal(f.Response, resp); err != nil {
		return nil, fmt.Errorf("idempotency: stored response: %w", err)
	}
	return resp, nil
}

// insertCases writes the registrations rs of mission, their responses set, in one statement
// after the mission's declaration: one round trip, one implicit transaction.
func (s *Service) insertCases(ctx context.Context, mission string, rs []*pendingCase) error {
	var st database.Statement
	firsts := make([]idempotency.Record, len(rs))
	cases, creators := make([]*intakev1.Case, len(rs)), make([]string, len(rs))
	events, records := make([]outbox.Event, len(rs)), make([]audit.Entry, len(rs))
	var entries []vault.Entry
	for i, r := range rs {
		firsts[i] = idempotency.Record{Key: r.key, Response: r.resp}
		cases[i], creators[i] = r.c, r.who.Subject
		events[i] = outbox.Event{Producer: producer, AggregateID: uuid.MustParse(r.c.CaseId), Mission: mission,
			Payload: &intakev1.CaseRegistered{Case: r.c}}
		records[i] = r.audit
		entries = append(entries, r.entries...)
	}
	if err := s.idem.Add(&st, firsts); err != nil {
		return err
	}
	if err := s.keys.Rewrapped(entries); err != nil {
		return err
	}
	vault.AddPut(&st, mission, entries)
	addInsertCases(&st, mission, cases, creators)
	if err := outbox.Add(&st, events); err != nil {
		return err
	}
	audit.Add(&st, records)
	b := &pgx.Batch{}
	st.Queue(b)
	if err := s.db.Mission(mission).SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert cases: %w", err)
	}
	return nil
}
