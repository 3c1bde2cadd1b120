package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// These tests drive withdrawal in intake and its enforcement in every programme service, on
// one server. The programme services' background consumers do not run: only the request path
// (consent.CatchUp) can bring them a withdrawal, so "at once" is what is tested.

// day is a calendar date as the protos carry it.
var day = testtime.Day

type bundle struct {
	env         *testserver.Env
	intake      intakev1.IntakeServiceClient
	returns     returnsv1.ReturnServiceClient
	trafficking traffickingv1.TraffickingServiceClient
	hasm        hasmv1.StrandedMigrantServiceClient
	hq          context.Context
}

func setup(t testing.TB, opts ...returns.Option) *bundle {
	t.Helper()
	ret := returns.Spec()
	ret.Register = func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
		returns.New(d.Pool, d.Keys, append([]returns.Option{returns.WithClock(d.Clock)}, opts...)...).Register(g)
		return nil
	}
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), ret,
			testserver.WithoutBackground(trafficking.Spec()), testserver.WithoutBackground(hasm.Spec())},
		Clock: testtime.Ticking(testtime.Today).Now,
	})
	return &bundle{
		env:         env,
		intake:      intakev1.NewIntakeServiceClient(env.Conn),
		returns:     returnsv1.NewReturnServiceClient(env.Conn),
		trafficking: traffickingv1.NewTraffickingServiceClient(env.Conn),
		hasm:        hasmv1.NewStrandedMigrantServiceClient(env.Conn),
		hq:          env.As(t, auth.RoleProgrammeManager, auth.MissionHQ),
	}
}

// register registers a case whose principal consents to assistance.
func (b *bundle) register(t *testing.T, ctx context.Context, mission string, programme commonv1.Programme) *intakev1.Case {
	t.Helper()
	resp, err := b.intake.RegisterCase(ctx, registrationFor(mission, programme))
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

func registrationFor(mission string, programme commonv1.Programme) *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: mission, Programme: programme, HostCountry: mission,
		Principal: &commonv1.Person{GivenName: "Mariam", FamilyName: "Kone-Traore", DateOfBirth: day(1995, 7, 9), Nationality: "MLI"},
		Consents:  []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 3, 1)}},
	}
}

// withdrawAssistance withdraws the principal's assistance record in force.
func (b *bundle) withdrawAssistance(t *testing.T, ctx context.Context, c *intakev1.Case) *intakev1.Case {
	t.Helper()
	var id string
	for _, x := range c.GetConsents() {
		if x.GetInForce() && x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE && x.GetSubjectId() == c.GetSubjectId() {
			id = x.GetConsentId()
		}
	}
	resp, err := b.intake.WithdrawConsent(ctx, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), ConsentId: id, Date: day(2026, 3, 14)})
	if err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	return resp.GetCase()
}

// grantAssistance records a new assistance record for the principal, on basis.
func (b *bundle) grantAssistance(t *testing.T, ctx context.Context, c *intakev1.Case, basis commonv1.LegalBasis) *intakev1.Case {
	t.Helper()
	x := &commonv1.Consent{SubjectId: c.GetSubjectId(), Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
		Granted: basis == commonv1.LegalBasis_LEGAL_BASIS_CONSENT, LegalBasis: basis, Date: day(2026, 3, 14)}
	resp, err := b.intake.RecordConsent(ctx, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), Consent: x})
	if err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	return resp.GetCase()
}

func TestReturnsRefuseWithoutAssistanceConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	worker := b.env.As(t, auth.RoleCaseworker, "DEU")
	c := b.register(t, worker, "DEU", commonv1.Programme_PROGRAMME_AVRR)
	got, err := b.returns.GetReturn(worker, &returnsv1.GetReturnRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatalf("GetReturn: %v", err)
	}
	eligibility := &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: got.GetReturn().GetVersion(),
		Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
			CounsellingDate: day(2026, 3, 2), DecisionDate: day(2026, 3, 3)}}
	first, err := b.returns.RecordEligibility(worker, eligibility)
	if err != nil {
		t.Fatalf("RecordEligibility: %v", err)
	}

	c = b.withdrawAssistance(t, worker, c)

	// A step done before the withdrawal and retried after it gets its first result back.
	again, err := b.returns.RecordEligibility(worker, eligibility)
	if err != nil {
		t.Fatalf("retried RecordEligibility: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("retry after withdrawal (-first +retry):\n%s", diff)
	}

	// Any new step is refused at once, naming the consent, and writes nothing.
	r := first.GetReturn()
	booking := func() *returnsv1.RecordPreDepartureStepRequest {
		return &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
			Step: &returnsv1.PreDepartureStep{Date: day(2026, 3, 10), Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}}}
	}
	tables := []string{"returns.pre_departure_step", `returns."return"`, "returns.idempotency", "outbox.event WHERE producer = 'returns'"}
	before := b.env.RowCounts(t, tables...)
	_, err = b.returns.RecordPreDepartureStep(worker, booking())
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	if diff := cmp.Diff(before, b.env.RowCounts(t, tables...)); diff != "" {
		t.Errorf("a refused step wrote (-before +after):\n%s", diff)
	}

	// Consent given again: the step goes through.
	c = b.grantAssistance(t, worker, c, commonv1.LegalBasis_LEGAL_BASIS_CONSENT)
	step, err := b.returns.RecordPreDepartureStep(worker, booking())
	if err != nil {
		t.Fatalf("RecordPreDepartureStep after consent was given again: %v", err)
	}

	// Withdrawn again: the return can still be closed, which is how a withdrawal is acted on.
	b.withdrawAssistance(t, worker, c)
	r = step.GetReturn()
	if _, err := b.returns.CloseReturn(worker, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
		Version: r.GetVersion(), Reason: returnsv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}); err != nil {
		t.Fatalf("CloseReturn after withdrawal: %v", err)
	}
}

func TestTraffickingRefusesWithoutAssistanceConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	worker := b.env.As(t, auth.RoleCaseworker, "NER")
	c := b.register(t, worker, "NER", commonv1.Programme_PROGRAMME_VOT)
	vc, err := b.trafficking.GetVictimCase(worker, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatalf("GetVictimCase: %v", err)
	}
	c = b.withdrawAssistance(t, worker, c)
	screening := func(version int64) *traffickingv1.RecordScreeningRequest {
		return &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: version,
			Status:       traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM,
			IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: day(2026, 3, 5)}
	}
	tables := []string{"trafficking.victim_case WHERE status = 'AWAITING_SCREENING'", "trafficking.idempotency", "outbox.event WHERE producer = 'trafficking'"}
	before := b.env.RowCounts(t, tables...)
	_, err = b.trafficking.RecordScreening(worker, screening(vc.GetVictimCase().GetVersion()))
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	if diff := cmp.Diff(before, b.env.RowCounts(t, tables...)); diff != "" {
		t.Errorf("a refused screening wrote (-before +after):\n%s", diff)
	}

	// Processing on a legal basis instead of consent is accepted.
	c = b.grantAssistance(t, worker, c, commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS)
	screened, err := b.trafficking.RecordScreening(worker, screening(vc.GetVictimCase().GetVersion()))
	if err != nil {
		t.Fatalf("RecordScreening on vital interests: %v", err)
	}
	b.withdrawAssistance(t, worker, c)
	if _, err := b.trafficking.CloseVictimCase(worker, &traffickingv1.CloseVictimCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: screened.GetVictimCase().GetVersion(), Reason: traffickingv1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}); err != nil {
		t.Fatalf("CloseVictimCase after withdrawal: %v", err)
	}
}

func TestHASMRefusesWithoutAssistanceConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	worker := b.env.As(t, auth.RoleCaseworker, "YEM")
	if _, err := b.hasm.CreateFund(b.hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-GLOBAL", Year: 2026,
		Currency: "USD", Budget: 1_000_000}); err != nil {
		t.Fatalf("CreateFund: %v", err)
	}
	request := func(c *intakev1.Case) *hasmv1.RequestAssistanceRequest {
		return &hasmv1.RequestAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           80_000, Currency: "USD", FundCode: "HASM-GLOBAL", FundYear: 2026}
	}
	c := b.register(t, worker, "YEM", commonv1.Programme_PROGRAMME_HASM)
	requested, err := b.hasm.RequestAssistance(worker, request(c))
	if err != nil {
		t.Fatalf("RequestAssistance: %v", err)
	}
	b.withdrawAssistance(t, worker, c)

	tables := []string{"hasm.request WHERE status = 'REQUESTED'", "hasm.fund WHERE committed = 0", "hasm.idempotency", "outbox.event WHERE producer = 'hasm'"}
	before := b.env.RowCounts(t, tables...)
	_, err = b.hasm.DecideRequest(b.hq, &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: requested.GetRequest().GetVersion(), Decision: hasmv1.Decision_DECISION_APPROVE})
	testserver.WantMissingConsent(t, err, "ASSISTANCE")

	// A case whose consent was withdrawn before any request gets none, though the service
	// knew the case (a first request, refused for its fund, made it read intake's events).
	other := b.register(t, worker, "YEM", commonv1.Programme_PROGRAMME_HASM)
	noFund := request(other)
	noFund.FundCode = "NO-SUCH-FUND"
	_, err = b.hasm.RequestAssistance(worker, noFund)
	testserver.WantCode(t, err, codes.InvalidArgument)
	b.withdrawAssistance(t, worker, other)
	before["outbox.event WHERE producer = 'hasm'"] = b.env.Count(t, "outbox.event WHERE producer = 'hasm'")
	_, err = b.hasm.RequestAssistance(worker, request(other))
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	if diff := cmp.Diff(before, b.env.RowCounts(t, tables...)); diff != "" {
		t.Errorf("refused calls wrote (-before +after):\n%s", diff)
	}

	if _, err := b.hasm.CloseRequest(worker, &hasmv1.CloseRequestRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: requested.GetRequest().GetVersion(), Reason: hasmv1.ClosureReason_CLOSURE_REASON_WITHDRAWN}); err != nil {
		t.Fatalf("CloseRequest after withdrawal: %v", err)
	}
}

// TestUnappliedWithdrawalFailsClosed: while a long transaction elsewhere keeps a withdrawal
// out of the consumer's reach, the programme service refuses (UNAVAILABLE, retry) rather than
// act on the consent it had; once the transaction ends, the withdrawal applies.
func TestUnappliedWithdrawalFailsClosed(t *testing.T) {
	t.Parallel()
	// The horizon is held cluster-wide: every other test's consumers wait too, so it is held
	// only for a short wait.
	b := setup(t, returns.WithCatchUpWait(200*time.Millisecond))
	worker := b.env.As(t, auth.RoleCaseworker, "DEU")
	c := b.register(t, worker, "DEU", commonv1.Programme_PROGRAMME_AVRR)
	// With the short wait, other tests' transactions may keep the new case out of reach for
	// a while: ask until it is there.
	var got *returnsv1.GetReturnResponse
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if got, err = b.returns.GetReturn(worker, &returnsv1.GetReturnRequest{CaseId: c.GetCaseId()}); err == nil {
			break
		}
		if codes.NotFound != status.Code(err) || time.Now().After(deadline) {
			t.Fatalf("GetReturn: %v", err)
		}
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, b.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // holds the horizon from now on
		t.Fatal(err)
	}
	b.withdrawAssistance(t, worker, c)

	eligibility := func() *returnsv1.RecordEligibilityRequest {
		return &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: got.GetReturn().GetVersion(),
			Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
				CounsellingDate: day(2026, 3, 2), DecisionDate: day(2026, 3, 3)}}
	}
	_, err = b.returns.RecordEligibility(worker, eligibility())
	testserver.WantCode(t, err, codes.Unavailable)

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Other tests' transactions may still hold the horizon a moment: UNAVAILABLE says retry.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err = b.returns.RecordEligibility(worker, eligibility())
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			break
		}
	}
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
}
