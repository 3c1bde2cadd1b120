package followup_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
)

func day(y, m, d int32) *date.Date { return &date.Date{Year: y, Month: m, Day: d} }

// clock is the follow-up service's clock, which a test moves from day to day. The programmes
// run on the real clock: every date of the stories is in the past.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// set moves the clock to noon of d.
func (c *clock) set(d *date.Date) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = time.Date(int(d.Year), time.Month(d.Month), int(d.Day), 12, 0, 0, 0, time.UTC)
}

type bundle struct {
	env      *testserver.Env
	clock    *clock
	intake   intakev1.IntakeServiceClient
	returns  returnsv1.ReturnServiceClient
	client   followupv1.FollowUpServiceClient
	reminder *followup.Service
	// worker (subject "staff-caseworker") is a caseworker and boss a supervisor of DEU;
	// other is a caseworker of NER.
	worker, boss, other context.Context
}

// setup runs intake, returns and followup on one server as `passage serve` does, followup's
// clock on c. The reminder job runs only when a test calls Remind (bundle.remind) on a second
// instance over the same database, so that a test knows when it ran.
func setup(t testing.TB) *bundle {
	t.Helper()
	c := &clock{}
	c.set(day(2025, 6, 1))
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{
		intake.Spec(), returns.Spec(),
		followup.SpecWith(followup.WithClock(c.Now), followup.WithReminderInterval(24*time.Hour)),
	}})
	return &bundle{
		env: env, clock: c,
		intake:   intakev1.NewIntakeServiceClient(env.Conn),
		returns:  returnsv1.NewReturnServiceClient(env.Conn),
		client:   followupv1.NewFollowUpServiceClient(env.Conn),
		reminder: followup.New(env.Pool(t, followup.Role), env.Keys, followup.WithClock(c.Now)),
		worker:   env.As(t, auth.RoleCaseworker, "DEU"),
		boss:     env.As(t, auth.RoleSupervisor, "DEU"),
		other:    env.As(t, auth.RoleCaseworker, "NER"),
	}
}

// remind runs the reminder job once and returns how many events it wrote.
func (b *bundle) remind(t *testing.T) int {
	t.Helper()
	n, err := b.reminder.Remind(t.Context())
	if err != nil {
		t.Fatalf("Remind: %v", err)
	}
	return n
}

// departed registers an AVRR case in DEU and walks its return to departure on day dep.
func (b *bundle) departed(t *testing.T, dep *date.Date) *returnsv1.Return {
	t.Helper()
	return b.depart(t, b.readyToDepart(t), dep)
}

// readyToDepart registers an AVRR case in DEU and walks its return to the eve of departure.
func (b *bundle) readyToDepart(t *testing.T) *returnsv1.Return {
	t.Helper()
	reg, err := b.intake.RegisterCase(b.worker, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
		Principal: &commonv1.Person{GivenName: "Karim", FamilyName: "Al-Rawi-Haddad", DateOfBirth: day(1988, 4, 2),
			Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ"},
		Consents:         []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2025, 5, 2)}},
		RegistrationDate: day(2025, 5, 2),
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	caseID := reg.GetCase().GetCaseId()
	var r *returnsv1.Return
	b.await(t, "the return", func() bool {
		got, err := b.returns.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: caseID})
		r = got.GetReturn()
		return err == nil
	})
	r = b.step(t, "RecordEligibility", func(v int64) (*returnsv1.Return, error) {
		resp, err := b.returns.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: v,
			Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
				CounsellingDate: day(2025, 5, 5), DecisionDate: day(2025, 5, 6)}})
		return resp.GetReturn(), err
	}, r)
	for _, s := range []*returnsv1.PreDepartureStep{
		{Date: day(2025, 5, 10), Step: &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT}},
		{Date: day(2025, 5, 12), Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}},
	} {
		r = b.step(t, "RecordPreDepartureStep", func(v int64) (*returnsv1.Return, error) {
			resp, err := b.returns.RecordPreDepartureStep(b.worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(),
				CaseId: caseID, Version: v, Step: s})
			return resp.GetReturn(), err
		}, r)
	}
	return r
}

// depart records return r's departure to IRQ on day dep, in DEU.
func (b *bundle) depart(t *testing.T, r *returnsv1.Return, dep *date.Date) *returnsv1.Return {
	t.Helper()
	return b.step(t, "RecordDeparture", func(v int64) (*returnsv1.Return, error) {
		resp, err := b.returns.RecordDeparture(b.worker, &returnsv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
			Version: v, DepartureDate: dep, ReturnCountry: "IRQ"})
		return resp.GetReturn(), err
	}, r)
}

// step runs one step on return r at its version.
func (b *bundle) step(t *testing.T, name string, call func(version int64) (*returnsv1.Return, error), r *returnsv1.Return) *returnsv1.Return {
	t.Helper()
	next, err := call(r.GetVersion())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return next
}

// await polls until ok holds: the consumer applies the programmes' events in the background.
func (b *bundle) await(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// caseFollowUps lists every follow-up of a case, as ctx sees them, soonest due first.
func (b *bundle) caseFollowUps(t *testing.T, ctx context.Context, caseID string) []*followupv1.FollowUp {
	t.Helper()
	return b.listed(t, ctx, &followupv1.ListFollowUpsRequest{State: followupv1.StateFilter_STATE_FILTER_ALL, CaseId: caseID})
}

// listed lists the first hundred of the follow-ups of ctx's mission that req asks for, soonest
// due first; none when the case req names is not found (none yet, or none this mission may see).
func (b *bundle) listed(t *testing.T, ctx context.Context, req *followupv1.ListFollowUpsRequest) []*followupv1.FollowUp {
	t.Helper()
	req.Scope, req.PageSize = followupv1.Scope_SCOPE_MISSION, 100
	resp, err := b.client.ListFollowUps(ctx, req)
	if status.Code(err) == codes.NotFound {
		return nil
	}
	if err != nil {
		t.Fatalf("ListFollowUps: %v", err)
	}
	return resp.GetFollowUps()
}

// awaitCase waits until the case's follow-ups, as DEU's supervisor sees them, satisfy ok, and
// returns them.
func (b *bundle) awaitCase(t *testing.T, caseID, what string, ok func([]*followupv1.FollowUp) bool) []*followupv1.FollowUp {
	t.Helper()
	return b.awaitCaseAs(t, b.boss, caseID, what, ok)
}

// awaitCaseAs is awaitCase as ctx sees the case's follow-ups.
func (b *bundle) awaitCaseAs(t *testing.T, ctx context.Context, caseID, what string, ok func([]*followupv1.FollowUp) bool) []*followupv1.FollowUp {
	t.Helper()
	var fs []*followupv1.FollowUp
	b.await(t, what, func() bool {
		fs = b.caseFollowUps(t, ctx, caseID)
		return ok(fs)
	})
	return fs
}

// events returns followup's events about one follow-up, by type name.
func (b *bundle) events(t *testing.T, followUpID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range b.followUpEvents(t, followUpID) {
		out[e.Type]++
	}
	return out
}

// followUpEvents returns followup's events about one follow-up, in the order they were
// written: they are filed under its case, beside those of the case's other follow-ups.
func (b *bundle) followUpEvents(t *testing.T, followUpID string) []testserver.Event {
	t.Helper()
	var out []testserver.Event
	for _, e := range b.env.Events(t, "followup") {
		if m, ok := e.Payload.(interface{ GetFollowUp() *followupv1.FollowUp }); ok && m.GetFollowUp().GetFollowUpId() == followUpID {
			out = append(out, e)
		}
	}
	return out
}

// publish writes an event about aggregate to the outbox as producer, as that service would,
// for the services this package's tests do not run (a programme's aggregate is its case).
func (b *bundle) publish(t *testing.T, producer, mission, aggregate string, m proto.Message) {
	t.Helper()
	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		var st database.Statement
		if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: uuid.MustParse(aggregate), Mission: mission, Payload: m}}); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, st.SQL(), st.Args()...); err != nil {
			t.Fatalf("publish: %v", err)
		}
	})
}

// byKind finds a case's follow-up of kind and occurrence.
func byKind(fs []*followupv1.FollowUp, kind followupv1.FollowUpKind, occurrence int32) *followupv1.FollowUp {
	for _, f := range fs {
		if f.GetKind() == kind && f.GetOccurrence() == occurrence {
			return f
		}
	}
	return nil
}

func isOpen(f *followupv1.FollowUp) bool {
	return f != nil && f.GetState() == followupv1.FollowUpState_FOLLOW_UP_STATE_OPEN
}

func isClosed(f *followupv1.FollowUp, outcome followupv1.Outcome) bool {
	return f != nil && f.GetState() == followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED && f.GetOutcome() == outcome
}

func sameDay(d *date.Date, y, m, dd int32) bool {
	return d.GetYear() == y && d.GetMonth() == m && d.GetDay() == dd
}
