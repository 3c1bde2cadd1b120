package intake_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/retrypolicy"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// grouped is a server whose registrations can be made to share one batch: hold() makes the
// next batch wait, in its first hook, until release() is called, while the calls sent in the
// meantime queue behind it.
type grouped struct {
	*bundle
	svc *intake.Service

	mu      sync.Mutex
	held    chan struct{} // closed once the held batch is waiting
	gate    chan struct{} // closed by release
	batches [][]string    // every batch's members' request ids, in write order
}

func setupGrouped(t *testing.T, maxInFlight int, afterLookup func(g *grouped, ids []string)) *grouped {
	t.Helper()
	g := &grouped{}
	var after func([]string)
	if afterLookup != nil {
		after = func(ids []string) { afterLookup(g, ids) }
	}
	spec := intake.Spec()
	spec.Register = func(d bootstrap.Deps, s *grpc.Server) func(context.Context) error {
		g.svc = intake.New(d.Pool, d.Keys, intake.WithClock(d.Clock),
			intake.WithGroupCommit(16, maxInFlight), intake.WithBatchHooks(g.before, after))
		g.svc.Register(s)
		return nil
	}
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{spec}, Clock: testtime.Ticking(today).Now})
	g.bundle = &bundle{
		env:    env,
		client: intakev1.NewIntakeServiceClient(env.Conn),
		worker: env.As(t, auth.RoleCaseworker, "NER"),
		other:  env.As(t, auth.RoleCaseworker, "DEU"),
	}
	return g
}

func (g *grouped) before(ids []string) {
	g.mu.Lock()
	g.batches = append(g.batches, ids)
	held, gate := g.held, g.gate
	g.held = nil
	g.mu.Unlock()
	if held != nil {
		close(held)
		<-gate
	}
}

// hold makes the next batch wait until release; it returns once that batch is waiting.
func (g *grouped) hold(t *testing.T, register func()) (release func()) {
	t.Helper()
	g.mu.Lock()
	g.held, g.gate = make(chan struct{}), make(chan struct{})
	held, gate := g.held, g.gate
	g.mu.Unlock()
	go register()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the held batch never started")
	}
	return func() { close(gate) }
}

// waitQueued waits until n registrations queue for the next batch.
func (g *grouped) waitQueued(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for g.svc.QueuedRegistrations() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d registrations queued, want %d", g.svc.QueuedRegistrations(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// batchOf returns the batch that wrote request id.
func (g *grouped) batchOf(id string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, b := range g.batches {
		if slices.Contains(b, id) {
			return b
		}
	}
	return nil
}

// together sends reqs (with their callers) while a first registration holds the only batch in
// flight, so that they all queue and are written by the next batch; it returns their answers.
func (g *grouped) together(t *testing.T, reqs []*intakev1.RegisterCaseRequest, callers ...func(i int) (*intakev1.RegisterCaseResponse, error)) ([]*intakev1.RegisterCaseResponse, []error) {
	t.Helper()
	var blocker sync.WaitGroup
	blocker.Add(1)
	release := g.hold(t, func() {
		defer blocker.Done()
		if _, err := g.client.RegisterCase(g.worker, registration(child("Blocker", 2000))); err != nil {
			t.Errorf("the held registration: %v", err)
		}
	})
	resps, errs := make([]*intakev1.RegisterCaseResponse, len(reqs)), make([]error, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() {
			if len(callers) > 0 {
				resps[i], errs[i] = callers[0](i)
				return
			}
			resps[i], errs[i] = g.client.RegisterCase(g.worker, reqs[i])
		})
	}
	g.waitQueued(t, len(reqs))
	release()
	wg.Wait()
	blocker.Wait()
	return resps, errs
}

// Two registrations of the same person written by one batch flag each other as two written
// one after the other would: the later names the earlier. (Two racing outside a batch each
// read before the other commits, and neither is flagged.)
func TestGroupCommitFlagsDuplicatesWithinABatch(t *testing.T) {
	t.Parallel()
	g := setupGrouped(t, 1, nil)
	reqs := []*intakev1.RegisterCaseRequest{registration(amina()), registration(amina()), registration(child("Musa", 2001))}
	resps, errs := g.together(t, reqs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	batch := g.batchOf(reqs[0].GetRequestId())
	if len(batch) != 3 || !slices.Contains(batch, reqs[1].GetRequestId()) {
		t.Fatalf("the three registrations were written by batches %v, want one", g.batches)
	}
	first, second := resps[0], resps[1]
	if slices.Index(batch, reqs[1].GetRequestId()) < slices.Index(batch, reqs[0].GetRequestId()) {
		first, second = second, first
	}
	if len(first.GetSuspectedDuplicates()) != 0 {
		t.Errorf("the earlier of the batch is flagged: %v", first.GetSuspectedDuplicates())
	}
	want := []*intakev1.SuspectedDuplicate{{
		CaseId: first.GetCase().GetCaseId(), SubjectId: first.GetCase().GetSubjectId(),
		MatchedSubjectId: second.GetCase().GetSubjectId(),
		MatchedOn:        []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT, intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY},
		// The earlier case's only staff is its registrant, the same caseworker.
		Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_FULL,
	}}
	if diff := cmp.Diff(want, second.GetSuspectedDuplicates(), protocmp.Transform()); diff != "" {
		t.Errorf("the later registration's duplicates (-want +got):\n%s", diff)
	}
	if d := resps[2].GetSuspectedDuplicates(); len(d) != 0 {
		t.Errorf("another person of the batch is flagged: %v", d)
	}
	// The stored first result says the same: a retry gets the flag back.
	again, err := g.client.RegisterCase(g.worker, proto.CloneOf(reqs[slices.Index(resps, second)]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(second, again, protocmp.Transform()); diff != "" {
		t.Errorf("a retry of the later registration (-first +retry):\n%s", diff)
	}
}

// A request id twice in one batch is written once; both calls get the first result.
func TestGroupCommitRetryInTheSameBatch(t *testing.T) {
	t.Parallel()
	g := setupGrouped(t, 1, nil)
	req := registration(amina(), child("Chidi", 2019))
	reqs := []*intakev1.RegisterCaseRequest{req, proto.CloneOf(req), registration(child("Musa", 2001))}
	resps, errs := g.together(t, reqs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	if diff := cmp.Diff(resps[0], resps[1], protocmp.Transform()); diff != "" {
		t.Errorf("the two calls of one request id got different answers (-first +second):\n%s", diff)
	}
	// The held registration, the request written once, and Musa. Blind indexes: the duplicate
	// check's 5 and the search's 29 (internal/vault/searchindex.go).
	want := map[string]int{`intake."case"`: 3, "intake.case_member": 4, "intake.consent": 3, "intake.idempotency": 3,
		"vault.identity": 4, "vault.blind_index": 5 + 29, "outbox.event": 3}
	if diff := cmp.Diff(want, g.stored(t)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// A racing retry of one member that commits between the batch's look-up and its write makes
// the batch's statement fail on that member's request id: the others are then written alone
// and still succeed, and the member gets the retry's first result.
func TestGroupCommitOneFailureFailsNoOther(t *testing.T) {
	t.Parallel()
	victim := registration(child("Musa", 2001))
	var raced atomic.Pointer[intakev1.RegisterCaseResponse]
	var once sync.Once
	var releaseFirst func()
	g := setupGrouped(t, 2, func(g *grouped, ids []string) {
		if len(ids) < 3 || !slices.Contains(ids, victim.GetRequestId()) {
			return
		}
		once.Do(func() {
			// Let the first held batch end, so that the retry is written by a batch of its own
			// in the place it leaves.
			releaseFirst()
			resp, err := g.client.RegisterCase(g.worker, proto.CloneOf(victim))
			if err != nil {
				t.Errorf("the racing retry: %v", err)
				return
			}
			raced.Store(resp)
		})
	})
	// Two batches may be in flight: hold one, and fill the other's place with a second held
	// call, so that the three below queue together.
	var blockers sync.WaitGroup
	blockers.Add(1)
	releaseFirst = sync.OnceFunc(g.hold(t, func() {
		defer blockers.Done()
		if _, err := g.client.RegisterCase(g.worker, registration(child("Blocker", 1999))); err != nil {
			t.Errorf("the first held registration: %v", err)
		}
	}))
	reqs := []*intakev1.RegisterCaseRequest{registration(amina()), victim, registration(child("Ngozi", 2008))}
	resps, errs := g.together(t, reqs)
	releaseFirst()
	blockers.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	if raced.Load() == nil {
		t.Fatalf("the racing retry never ran (batches %v)", g.batches)
	}
	if diff := cmp.Diff(raced.Load(), resps[1], protocmp.Transform()); diff != "" {
		t.Errorf("the member whose retry won got (-retry +member):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, r := range resps {
		seen[r.GetCase().GetCaseId()] = true
		if _, err := g.client.GetCase(g.worker, &intakev1.GetCaseRequest{CaseId: r.GetCase().GetCaseId()}); err != nil {
			t.Errorf("GetCase %s: %v", r.GetCase().GetCaseId(), err)
		}
	}
	if len(seen) != 3 {
		t.Errorf("the three registrations answered %d distinct cases, want 3", len(seen))
	}
	// Two held registrations and the three of the batch, the victim once.
	if got := g.env.Count(t, `intake."case"`); got != 5 {
		t.Errorf("%d cases stored, want 5", got)
	}
}

// A batch of two missions writes each mission's cases under that mission's declaration, each
// with its audit record and outbox event in the batch's order, and the audit chains verify.
func TestGroupCommitAcrossMissions(t *testing.T) {
	t.Parallel()
	g := setupGrouped(t, 1, nil)
	deu := registration(child("Karim", 1988))
	deu.Mission = "DEU"
	reqs := []*intakev1.RegisterCaseRequest{registration(amina()), deu, registration(child("Musa", 2001))}
	resps, errs := g.together(t, reqs, func(i int) (*intakev1.RegisterCaseResponse, error) {
		if reqs[i].GetMission() == "DEU" {
			return g.client.RegisterCase(g.other, reqs[i])
		}
		return g.client.RegisterCase(g.worker, reqs[i])
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	if b := g.batchOf(reqs[0].GetRequestId()); !slices.Contains(b, reqs[2].GetRequestId()) {
		t.Fatalf("NER's two registrations were not written by one batch: %v", g.batches)
	}
	for i, r := range resps {
		mine, theirs := g.worker, g.other
		if reqs[i].GetMission() == "DEU" {
			mine, theirs = theirs, mine
		}
		id := r.GetCase().GetCaseId()
		if got, err := g.client.GetCase(mine, &intakev1.GetCaseRequest{CaseId: id}); err != nil || got.GetCase().GetMission() != reqs[i].GetMission() {
			t.Errorf("case %d read in its own mission: %v, %v", i, got.GetCase().GetMission(), err)
		}
		_, err := g.client.GetCase(theirs, &intakev1.GetCaseRequest{CaseId: id})
		testserver.WantCode(t, err, codes.NotFound)
		if got := g.env.QueryInt(t, `SELECT count(*) FROM intake."case" WHERE case_id = $1 AND mission = $2`, id, reqs[i].GetMission()); got != 1 {
			t.Errorf("case %d: %d rows in mission %s, want 1", i, got, reqs[i].GetMission())
		}
	}
	// Each case has one event and one audit record, in the same order.
	var events, records []string
	for _, e := range g.env.Events(t, "intake") {
		events = append(events, e.Payload.(*intakev1.CaseRegistered).GetCase().GetCaseId())
	}
	for _, r := range g.env.AuditRecords(t, intakev1.IntakeService_RegisterCase_FullMethodName) {
		records = append(records, r.AggregateID)
		if _, err := uuid.Parse(r.ClientRequestID); err != nil {
			t.Errorf("audit record without its request id: %+v", r)
		}
	}
	if len(events) != 4 {
		t.Fatalf("%d events, want 4 (the held registration's and the batch's three)", len(events))
	}
	if diff := cmp.Diff(events, records); diff != "" {
		t.Errorf("audit records and events in different orders (-events +records):\n%s", diff)
	}
	g.env.ChainAudit(t)
}

// When the database goes away while a batch is being written, every member is answered as
// an outage (UNAVAILABLE, never INTERNAL), whatever the fallback would have met, and the
// client's retry (retrypolicy.Do) with the same request id settles each to one case, written once.
func TestGroupCommitOutageIsAnsweredAsOne(t *testing.T) {
	t.Parallel()
	var once sync.Once
	g := setupGrouped(t, 1, func(g *grouped, ids []string) {
		if len(ids) < 3 {
			return
		}
		once.Do(func() {
			// Between the batch's look-up and its write: every connection of the service is
			// cut, as by a Postgres restart.
			g.env.ExecAsOwner(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE usename = $1 AND datname = current_database()`, intake.Role)
		})
	})
	reqs := []*intakev1.RegisterCaseRequest{registration(amina()), registration(child("Musa", 2001)), registration(child("Ngozi", 2008))}
	resps, errs := g.together(t, reqs, func(i int) (resp *intakev1.RegisterCaseResponse, err error) {
		// What the project's clients do: the same request again, until the first result.
		ctx, cancel := context.WithTimeout(g.worker, 30*time.Second)
		defer cancel()
		err = retrypolicy.Do(ctx, func(ctx context.Context) (err error) {
			resp, err = g.client.RegisterCase(ctx, proto.CloneOf(reqs[i]))
			return err
		})
		return resp, err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d, retried: %v", i, err)
		}
	}
	logs := g.env.Logs.String()
	if !strings.Contains(logs, `"msg":"database failure"`) || strings.Contains(logs, `"msg":"internal error"`) {
		t.Fatalf("the cut was not answered as an outage:\n%s", logs)
	}
	for i, req := range reqs {
		n := g.env.QueryInt(t, `SELECT count(*) FROM intake."case" WHERE case_id = $1`, resps[i].GetCase().GetCaseId())
		again, err := g.client.RegisterCase(g.worker, proto.CloneOf(req))
		if n != 1 || err != nil || again.GetCase().GetCaseId() != resps[i].GetCase().GetCaseId() {
			t.Errorf("registration %d: %d cases, retry %v with case %s; want one case, replayed", i, n, err, again.GetCase().GetCaseId())
		}
	}
	// The held registration and the three.
	if n := g.env.Count(t, `intake."case"`); n != 4 {
		t.Errorf("%d cases, want 4", n)
	}
}

// A registration alone is a batch of one like any other: when a racing retry of it commits
// between its look-up and its write, its statement fails on the request id, and it answers
// with the retry's first result; one case is written.
func TestGroupCommitBatchOfOneLosesTheRace(t *testing.T) {
	t.Parallel()
	req := registration(child("Musa", 2001))
	var raced atomic.Pointer[intakev1.RegisterCaseResponse]
	var started atomic.Bool
	g := setupGrouped(t, 2, func(g *grouped, ids []string) {
		// The first batch's hook sends the retry; the retry's own batch passes through.
		if len(ids) != 1 || ids[0] != req.GetRequestId() || !started.CompareAndSwap(false, true) {
			return
		}
		// The retry takes the other batch in flight, finds no first result either, and
		// commits first.
		resp, err := g.client.RegisterCase(g.worker, proto.CloneOf(req))
		if err != nil {
			t.Errorf("the racing retry: %v", err)
			return
		}
		raced.Store(resp)
	})
	resp, err := g.client.RegisterCase(g.worker, req)
	if err != nil {
		t.Fatal(err)
	}
	if raced.Load() == nil {
		t.Fatalf("the racing retry never ran (batches %v)", g.batches)
	}
	if diff := cmp.Diff(raced.Load(), resp, protocmp.Transform()); diff != "" {
		t.Errorf("the registration whose retry won got (-retry +registration):\n%s", diff)
	}
	if got := g.env.Count(t, `intake."case"`); got != 1 {
		t.Errorf("%d cases stored, want 1", got)
	}
}
