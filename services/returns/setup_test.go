package returns_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
)

// day is a calendar date as the protos carry it.
var day = testtime.Day

type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	client returnsv1.ReturnServiceClient
	// worker is a caseworker and boss a supervisor of the mission DEU; other is a caseworker
	// of NER.
	worker, boss, other context.Context
}

// setup runs intake and returns on one server, the returns projection following intake's
// events in the background as in production.
func setup(t testing.TB) *bundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), returns.Spec()},
		// The clock stays on the fixed day the services believe it is, but moves a millisecond
		// a call, so "newest first" is defined.
		Clock: testtime.Ticking(testtime.Today).Now,
	})
	return &bundle{
		env:    env,
		intake: intakev1.NewIntakeServiceClient(env.Conn),
		client: returnsv1.NewReturnServiceClient(env.Conn),
		worker: env.As(t, auth.RoleCaseworker, "DEU"),
		boss:   env.As(t, auth.RoleSupervisor, "DEU"),
		other:  env.As(t, auth.RoleCaseworker, "NER"),
	}
}

// karim is the principal of the story: an Iraqi national in Germany. His name must never
// leave the vault.
func karim() *commonv1.Person {
	return &commonv1.Person{
		GivenName: "Karim", FamilyName: "Al-Rawi-Haddad", DateOfBirth: day(1988, 4, 2),
		Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "B7731942", IssuingCountry: "IRQ"}},
	}
}

func relative(given string, sex commonv1.Sex, born int32) *commonv1.Person {
	return &commonv1.Person{GivenName: given, FamilyName: "Al-Rawi-Haddad", Sex: sex, DateOfBirth: day(born, 6, 1), Nationality: "IRQ"}
}

// registration is an AVRR registration in the mission DEU.
func registration(p *commonv1.Person, household ...*commonv1.Person) *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId:        uuid.NewString(),
		Mission:          "DEU",
		Programme:        commonv1.Programme_PROGRAMME_AVRR,
		Principal:        p,
		HouseholdMembers: household,
		HostCountry:      "DEU",
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 1, 10),
		}},
		RegistrationDate: day(2026, 1, 10),
	}
}

// register registers a case through intake and waits for its return to appear.
func (b *bundle) register(t *testing.T, req *intakev1.RegisterCaseRequest) *returnsv1.Return {
	t.Helper()
	resp, err := b.intake.RegisterCase(b.worker, req)
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return b.await(t, resp.GetCase().GetCaseId(), func(*returnsv1.Return) bool { return true })
}

// await reads a return until ok holds. GetReturn catches up on intake's events itself, but
// the outbox is read only behind the oldest transaction running anywhere in the cluster (other
// tests' included), so a fresh case can take a moment to show.
func (b *bundle) await(t *testing.T, caseID string, ok func(*returnsv1.Return) bool) *returnsv1.Return {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := b.client.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: caseID})
		if err == nil && ok(resp.GetReturn()) {
			return resp.GetReturn()
		}
		if status.Code(err) != codes.NotFound && err != nil {
			t.Fatalf("GetReturn: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("return of case %s not as expected in time (last error %v)", caseID, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func eligibleNow() *returnsv1.EligibilityDecision {
	return &returnsv1.EligibilityDecision{
		Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE, CounsellingDate: day(2026, 1, 12), DecisionDate: day(2026, 1, 15),
	}
}

func (b *bundle) eligible(t *testing.T, r *returnsv1.Return) *returnsv1.Return {
	t.Helper()
	resp, err := b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(), Decision: eligibleNow()})
	if err != nil {
		t.Fatalf("RecordEligibility: %v", err)
	}
	return resp.GetReturn()
}

func (b *bundle) preDeparture(t *testing.T, r *returnsv1.Return, s *returnsv1.PreDepartureStep) *returnsv1.Return {
	t.Helper()
	resp, err := b.client.RecordPreDepartureStep(b.worker, &returnsv1.RecordPreDepartureStepRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(), Step: s})
	if err != nil {
		t.Fatalf("RecordPreDepartureStep: %v", err)
	}
	return resp.GetReturn()
}

func departure(r *returnsv1.Return) *returnsv1.RecordDepartureRequest {
	return &returnsv1.RecordDepartureRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		DepartureDate: day(2026, 2, 3), ReturnCountry: "IRQ",
	}
}

func (b *bundle) depart(t *testing.T, r *returnsv1.Return) *returnsv1.Return {
	t.Helper()
	resp, err := b.client.RecordDeparture(b.worker, departure(r))
	if err != nil {
		t.Fatalf("RecordDeparture: %v", err)
	}
	return resp.GetReturn()
}

func (b *bundle) arrive(t *testing.T, r *returnsv1.Return) *returnsv1.Return {
	t.Helper()
	resp, err := b.client.RecordArrival(b.worker, &returnsv1.RecordArrivalRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3)}})
	if err != nil {
		t.Fatalf("RecordArrival: %v", err)
	}
	return resp.GetReturn()
}

func businessPlan() *returnsv1.ReintegrationPlan {
	return &returnsv1.ReintegrationPlan{
		PlanDate:     day(2026, 2, 10),
		Economic:     []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP},
		Psychosocial: []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL_SUPPORT},
	}
}

func (b *bundle) plan(t *testing.T, r *returnsv1.Return) *returnsv1.Return {
	t.Helper()
	resp, err := b.client.SetReintegrationPlan(b.worker, &returnsv1.SetReintegrationPlanRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(), Plan: businessPlan()})
	if err != nil {
		t.Fatalf("SetReintegrationPlan: %v", err)
	}
	return resp.GetReturn()
}

func (b *bundle) close(t *testing.T, r *returnsv1.Return, reason returnsv1.ClosureReason) *returnsv1.Return {
	t.Helper()
	resp, err := b.client.CloseReturn(b.worker, &returnsv1.CloseReturnRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(), Reason: reason})
	if err != nil {
		t.Fatalf("CloseReturn: %v", err)
	}
	return resp.GetReturn()
}

// walk takes a fresh return (no vulnerabilities) to status s.
func (b *bundle) walk(t *testing.T, s returnsv1.ReturnStatus) *returnsv1.Return {
	t.Helper()
	r := b.register(t, registration(karim(), relative("Layla", commonv1.Sex_SEX_FEMALE, 1990)))
	switch s {
	case returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING:
		return r
	case returnsv1.ReturnStatus_RETURN_STATUS_NOT_ELIGIBLE:
		resp, err := b.client.RecordEligibility(b.worker, &returnsv1.RecordEligibilityRequest{
			RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
			Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_NOT_ELIGIBLE,
				IneligibilityReason: returnsv1.IneligibilityReason_INELIGIBILITY_REASON_ALREADY_ASSISTED, DecisionDate: day(2026, 1, 15)}})
		if err != nil {
			t.Fatalf("RecordEligibility: %v", err)
		}
		return resp.GetReturn()
	case returnsv1.ReturnStatus_RETURN_STATUS_CLOSED:
		return b.close(t, r, returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY)
	}
	r = b.eligible(t, r)
	if s == returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE {
		return r
	}
	r = b.depart(t, r)
	if s == returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED {
		return r
	}
	r = b.arrive(t, r)
	if s == returnsv1.ReturnStatus_RETURN_STATUS_ARRIVED {
		return r
	}
	return b.plan(t, r)
}

// admin runs fn on a connection as the database owner.
func (b *bundle) admin(t *testing.T, fn func(conn *pgx.Conn)) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), b.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	fn(conn)
}

// stored returns the row counts of every table a step writes, to prove a refusal wrote
// nothing.
func (b *bundle) stored(t *testing.T) map[string]int {
	t.Helper()
	out := b.env.RowCounts(t, `returns."return"`, "returns.eligibility_decision", "returns.pre_departure_step",
		"returns.departure", "returns.arrival", "returns.reintegration_plan", "returns.assistance",
		"returns.monitoring_visit", "returns.status_change", "returns.idempotency", "outbox.event")
	out["sum of versions"] = b.env.QueryInt(t, `SELECT coalesce(sum(version), 0) FROM returns."return"`)
	return out
}

// events returns the payloads returns wrote to the outbox for a case, in order.
func (b *bundle) events(t *testing.T, caseID string) []proto.Message {
	t.Helper()
	return testserver.Payloads(b.env.AggregateEvents(t, "returns", caseID))
}

// reason returns a status's ErrorInfo reason.
func reason(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// preconditionSubjects returns the subjects of a status's PreconditionFailure details.
func preconditionSubjects(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				out = append(out, v.GetSubject())
			}
		}
	}
	return out
}
