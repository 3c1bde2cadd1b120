package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/retrypolicy"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	// attemptTimeout bounds one call; one that runs out is tried again, as a lost
	// connection is.
	attemptTimeout = 5 * time.Second
	// settleTimeout bounds a registration, all its attempts together.
	settleTimeout = 40 * time.Second
)

// registration is one RegisterCase request and what became of it.
type registration struct {
	req *intakev1.RegisterCaseRequest
	// caseID is the case of its first success; "" until then.
	caseID string
	// failures are the errors of the attempts before it (codes and reasons only).
	failures []string
	// final is the definite error it ended with instead of a success, if it did.
	final error
}

// load is the clients' shared record: every registration, and every error answered.
type load struct {
	ctx    context.Context // ends every registration at once when the test fails
	client intakev1.IntakeServiceClient
	phase  atomic.Pointer[string] // what the test is doing to the server, for the counts

	mu      sync.Mutex
	regs    []*registration
	counts  map[string]map[string]int // phase → error ("Unavailable DATABASE_UNAVAILABLE may_have_applied=true") → count
	phases  []string                  // in the order they began
	bugs    []string                  // every INTERNAL or UNKNOWN answer, described
	acked   int
	stopped atomic.Bool
}

func newLoad(ctx context.Context, client intakev1.IntakeServiceClient) *load {
	l := &load{ctx: ctx, client: client, counts: map[string]map[string]int{}}
	l.setPhase("steady load")
	return l
}

// setPhase names what happens from now on.
func (l *load) setPhase(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase.Store(&name)
	l.phases = append(l.phases, name)
}

// acknowledged is how many registrations have succeeded so far.
func (l *load) acknowledged() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// run starts n clients registering continuously until stop; wait returns once every
// registration they started has settled (or l's context ended).
func (l *load) run(n int) (stop, wait func()) {
	var wg sync.WaitGroup
	today := time.Now().UTC()
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(today.UnixNano())))
		wg.Go(func() {
			for !l.stopped.Load() && l.ctx.Err() == nil {
				r := &registration{req: syntheticRequest(rng, today)}
				l.mu.Lock()
				l.regs = append(l.regs, r)
				l.mu.Unlock()
				ctx, cancel := context.WithTimeout(l.ctx, settleTimeout)
				l.register(ctx, r)
				cancel()
			}
		})
	}
	return func() { l.stopped.Store(true) }, wg.Wait
}

// register sends r until it gets an answer that is not UNAVAILABLE or ABORTED (a call that
// timed out counts as UNAVAILABLE), each attempt with the same request id, and records what
// every attempt got.
func (l *load) register(ctx context.Context, r *registration) {
	attempt := 0
	err := retrypolicy.Do(ctx, func(ctx context.Context) error {
		attempt++
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		// The server logs the call under this id, so that its lines can be found.
		actx = metadata.AppendToOutgoingContext(actx, middleware.RequestIDHeader, fmt.Sprintf("%s.%d", r.req.GetRequestId(), attempt))
		resp, err := l.client.RegisterCase(actx, r.req)
		if err == nil {
			l.mu.Lock()
			r.caseID = resp.GetCase().GetCaseId()
			l.acked++
			l.mu.Unlock()
			return nil
		}
		l.record(r, attempt, err)
		if status.Code(err) == codes.DeadlineExceeded && ctx.Err() == nil {
			return status.Error(codes.Unavailable, "the attempt timed out")
		}
		return err
	})
	if err != nil {
		l.mu.Lock()
		r.final = err
		l.mu.Unlock()
	}
}

// record counts an attempt's error under the current phase.
func (l *load) record(r *registration, attempt int, err error) {
	st := status.Convert(err)
	desc := describe(st)
	phase := *l.phase.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	r.failures = append(r.failures, desc)
	if l.counts[phase] == nil {
		l.counts[phase] = map[string]int{}
	}
	l.counts[phase][desc]++
	if st.Code() == codes.Internal || st.Code() == codes.Unknown {
		l.bugs = append(l.bugs, fmt.Sprintf("request %s attempt %d during %q: %s %q",
			r.req.GetRequestId(), attempt, phase, st.Code(), st.Message()))
	}
}

// describe names an error by its code and its ErrorInfo, never its message (which could
// carry what a request held).
func describe(st *status.Status) string {
	desc := st.Code().String()
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			desc += " " + info.GetReason()
			if v, ok := info.GetMetadata()["may_have_applied"]; ok {
				desc += " may_have_applied=" + v
			}
		}
	}
	return desc
}

// summary prints the errors seen, per phase, most frequent first.
func (l *load) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d registrations, %d acknowledged; errors answered, per phase:\n", len(l.regs), l.acked)
	for _, phase := range l.phases {
		counts := l.counts[phase]
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return counts[b] - counts[a] })
		fmt.Fprintf(&b, "  %s:", phase)
		if len(keys) == 0 {
			b.WriteString(" none")
		}
		for _, k := range keys {
			fmt.Fprintf(&b, " [%s] %d;", k, counts[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// errorsInPhase is how many errors have been answered since the current phase began.
func (l *load) errorsInPhase() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.counts[*l.phase.Load()] {
		n += c
	}
	return n
}

// registrations returns every registration made.
func (l *load) registrations() []*registration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.regs)
}

// internalAnswers returns every INTERNAL or UNKNOWN answer, described.
func (l *load) internalAnswers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.bugs)
}

var syllables = []string{"ka", "lo", "mi", "na", "ra", "su", "te", "bo", "di", "fa", "ge", "ha", "ju", "ke", "ma", "ni", "ou", "sa", "ti", "za"}

// syntheticRequest is a registration of a made-up person: a name of syllables, a random
// passport number, a consent to assistance given today.
func syntheticRequest(rng *rand.Rand, today time.Time) *intakev1.RegisterCaseRequest {
	name := func() string {
		var b strings.Builder
		for range 2 + rng.IntN(2) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		return strings.ToUpper(b.String()[:1]) + b.String()[1:]
	}
	programmes := []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_HASM, commonv1.Programme_PROGRAMME_VOT}
	y, m, d := today.Date()
	return &intakev1.RegisterCaseRequest{
		RequestId:   uuid.NewString(),
		Mission:     "NER",
		Programme:   programmes[rng.IntN(len(programmes))],
		HostCountry: "NER",
		Principal: &commonv1.Person{
			GivenName: name(), FamilyName: name(), Nationality: "MLI",
			Documents: []*commonv1.IdentityDocument{{
				Type:           commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT,
				Number:         fmt.Sprintf("ZZ%07d", rng.IntN(10_000_000)),
				IssuingCountry: "MLI",
			}},
		},
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
			Granted: true,
			Date:    &date.Date{Year: int32(y), Month: int32(m), Day: int32(d)},
		}},
	}
}
