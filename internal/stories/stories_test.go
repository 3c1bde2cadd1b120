package stories_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

type clients struct {
	env         *testserver.Env
	intake      intakev1.IntakeServiceClient
	returns     returnsv1.ReturnServiceClient
	trafficking traffickingv1.TraffickingServiceClient
	hasm        hasmv1.StrandedMigrantServiceClient
}

func start(t *testing.T) *clients {
	t.Helper()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), returns.Spec(), trafficking.Spec(), hasm.Spec(), followup.Spec()},
	})
	return &clients{
		env:         env,
		intake:      intakev1.NewIntakeServiceClient(env.Conn),
		returns:     returnsv1.NewReturnServiceClient(env.Conn),
		trafficking: traffickingv1.NewTraffickingServiceClient(env.Conn),
		hasm:        hasmv1.NewStrandedMigrantServiceClient(env.Conn),
	}
}

// day is a calendar date as the protos carry it.
var day = testtime.Day

// failedStep is how must stops a story: stopOnFailedStep turns it into a test failure that
// names the line of the step.
type failedStep struct {
	file string
	line int
	err  error
}

// stopOnFailedStep, deferred by a story, turns a step's failure into a test failure that
// names the step's line.
func stopOnFailedStep(t *testing.T) {
	if r := recover(); r != nil {
		f, ok := r.(failedStep)
		if !ok {
			panic(r)
		}
		t.Fatalf("the step at %s:%d failed: %v", f.file, f.line, f.err)
	}
}

// must returns v, or stops the story when a step failed.
func must[T any](v T, err error) T {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failedStep{filepath.Base(file), line, err})
	}
	return v
}

func person(given, family string, sex commonv1.Sex, born *date.Date, nationality string) *commonv1.Person {
	return &commonv1.Person{GivenName: given, FamilyName: family, Sex: sex, DateOfBirth: born, Nationality: nationality}
}

func consent(on *date.Date) []*commonv1.Consent {
	return []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: on}}
}

func (c *clients) register(t *testing.T, ctx context.Context, req *intakev1.RegisterCaseRequest) *intakev1.Case {
	t.Helper()
	req.RequestId = uuid.NewString()
	return must(c.intake.RegisterCase(ctx, req)).GetCase()
}

// TestSeedStories walks the four stories on one server and then checks, across them, the
// departures analytics will count: every person who left, AVRR and HASM alike.
func TestSeedStories(t *testing.T) {
	t.Parallel()
	defer stopOnFailedStep(t)
	c := start(t)
	avrrCase := germanyToIraq(t, c)
	votCase, votReturn := thailandVictimReturnsHome(t, c)
	hasmCase := yemenStrandedMigrant(t, c)

	// The shared departure events: one shape for every programme that moves people.
	var departures []*commonv1.DepartureRecorded
	for _, e := range events(t, c.env, "passage.common.v1.DepartureRecorded") {
		departures = append(departures, e.(*commonv1.DepartureRecorded))
	}
	type summary struct {
		Case, Mission, Programme, From, To string
		Travellers                         int
	}
	var got []summary
	for _, d := range departures {
		got = append(got, summary{d.GetCaseId(), d.GetMission(), d.GetProgramme().String(), d.GetHostCountry(), d.GetReturnCountry(), len(d.GetTravellers())})
	}
	want := []summary{
		{avrrCase, "DEU", "PROGRAMME_AVRR", "DEU", "IRQ", 3},
		{votReturn, "THA", "PROGRAMME_AVRR", "THA", "MMR", 1},
		{hasmCase, "YEM", "PROGRAMME_HASM", "YEM", "ETH", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("departures (-want +got):\n%s", diff)
	}

	// The victim's AVRR return is the same person as the victim case, without a copy of
	// their identity: one vault row, two cases.
	vc := must(c.trafficking.GetVictimCase(c.env.As(t, auth.RoleCaseworker, "THA"),
		&traffickingv1.GetVictimCaseRequest{CaseId: votCase})).GetVictimCase()
	if departures[1].GetTravellers()[0].GetSubjectId() != vc.GetPrincipalSubjectId() {
		t.Errorf("the AVRR departure is for subject %s, the victim case for %s", departures[1].GetTravellers()[0].GetSubjectId(), vc.GetPrincipalSubjectId())
	}

	// Every event is pseudonymised: no name from the stories appears in any payload.
	all := events(t, c.env, "")
	if len(all) < 20 {
		t.Fatalf("only %d events: the scan would prove nothing", len(all))
	}
	for _, e := range all {
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Karim", "Haddad", "Layla", "Thida", "Aung", "Abebe", "Dawit", "Tesfaye"} {
			if bytes.Contains(b, []byte(name)) {
				t.Errorf("an event of type %s carries %q", proto.MessageName(e), name)
			}
		}
	}
}

// germanyToIraq: a migrant in Germany registered for AVRR, eligible, departs to Iraq with two
// household members, arrives, receives business start-up assistance, is visited twice with
// rising RSS scores.
func germanyToIraq(t *testing.T, c *clients) string {
	ctx := c.env.As(t, auth.RoleCaseworker, "DEU")
	kase := c.register(t, ctx, &intakev1.RegisterCaseRequest{
		Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
		Principal: person("Karim", "Haddad", commonv1.Sex_SEX_MALE, day(1988, 4, 2), "IRQ"),
		HouseholdMembers: []*commonv1.Person{
			person("Layla", "Haddad", commonv1.Sex_SEX_FEMALE, day(1990, 9, 12), "IRQ"),
			person("Omar", "Haddad", commonv1.Sex_SEX_MALE, day(2015, 1, 30), "IRQ"),
		},
		Consents: consent(day(2026, 1, 10)), RegistrationDate: day(2026, 1, 10),
	})
	id := kase.GetCaseId()
	r := must(c.returns.GetReturn(ctx, &returnsv1.GetReturnRequest{CaseId: id})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_COUNSELLING)

	r = must(c.returns.RecordEligibility(ctx, &returnsv1.RecordEligibilityRequest{
		RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
			CounsellingDate: day(2026, 1, 12), DecisionDate: day(2026, 1, 15)},
	})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_ELIGIBLE)
	r = must(c.returns.RecordPreDepartureStep(ctx, &returnsv1.RecordPreDepartureStepRequest{
		RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Step: &returnsv1.PreDepartureStep{Date: day(2026, 1, 25), Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}},
	})).GetReturn()
	r = must(c.returns.RecordDeparture(ctx, &returnsv1.RecordDepartureRequest{
		RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(), DepartureDate: day(2026, 2, 3), ReturnCountry: "IRQ",
	})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED)
	r = must(c.returns.RecordArrival(ctx, &returnsv1.RecordArrivalRequest{
		RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 3)},
	})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_ARRIVED)
	r = must(c.returns.SetReintegrationPlan(ctx, &returnsv1.SetReintegrationPlanRequest{
		RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Plan: &returnsv1.ReintegrationPlan{PlanDate: day(2026, 2, 10), Economic: []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP}},
	})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION)
	r = must(c.returns.RecordAssistance(ctx, &returnsv1.RecordAssistanceRequest{
		RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
		Assistance: &returnsv1.Assistance{Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP,
			Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC, Value: &returnsv1.Money{CurrencyCode: "EUR", AmountMinor: 150000},
			DeliveryDate: day(2026, 2, 20), Provider: "IOM-IRQ"},
	})).GetReturn()
	var composites []float64
	for i, s := range [][3]float64{{0.3, 0.45, 0.4}, {0.6, 0.7, 0.65}} {
		v := must(c.returns.RecordMonitoringVisit(ctx, &returnsv1.RecordMonitoringVisitRequest{
			RequestId: uuid.NewString(), CaseId: id, Version: r.GetVersion(),
			Visit: &returnsv1.MonitoringVisit{VisitDate: day(2026, int32(3+3*i), 1),
				EconomicScore: proto.Float64(s[0]), SocialScore: proto.Float64(s[1]), PsychosocialScore: proto.Float64(s[2])},
		}))
		r = v.GetReturn()
		composites = append(composites, v.GetVisit().GetCompositeScore())
	}
	if !(composites[0] < composites[1]) {
		t.Errorf("RSS composite scores %v do not rise", composites)
	}
	wantEvents(t, c.env, id, "passage.intake.v1.CaseRegistered", "passage.returns.v1.EligibilityDecided",
		"passage.returns.v1.PreDepartureStepRecorded", "passage.common.v1.DepartureRecorded", "passage.returns.v1.ArrivalRecorded",
		"passage.returns.v1.ReintegrationPlanSet", "passage.returns.v1.AssistanceDelivered",
		"passage.returns.v1.MonitoringVisitRecorded", "passage.returns.v1.MonitoringVisitRecorded")
	return id
}

// thailandVictimReturnsHome: a presumed victim identified in Thailand, assisted with shelter and
// psychosocial support, then returned through AVRR. It returns the victim case and the AVRR case.
func thailandVictimReturnsHome(t *testing.T, c *clients) (string, string) {
	ctx := c.env.As(t, auth.RoleCaseworker, "THA")
	kase := c.register(t, ctx, &intakev1.RegisterCaseRequest{
		Mission: "THA", Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "THA",
		Principal:       person("Thida", "Aung", commonv1.Sex_SEX_FEMALE, day(2001, 6, 5), "MMR"),
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING},
		Consents:        consent(day(2026, 1, 5)), RegistrationDate: day(2026, 1, 5),
	})
	id := kase.GetCaseId()
	v := must(c.trafficking.GetVictimCase(ctx, &traffickingv1.GetVictimCaseRequest{CaseId: id})).GetVictimCase()
	for _, s := range []struct {
		status traffickingv1.IdentificationStatus
		by     traffickingv1.IdentifyingAuthority
		on     *date.Date
	}{
		{traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM, traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, day(2026, 1, 6)},
		{traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM, traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_GOVERNMENT, day(2026, 1, 20)},
	} {
		v = must(c.trafficking.RecordScreening(ctx, &traffickingv1.RecordScreeningRequest{
			RequestId: uuid.NewString(), CaseId: id, Version: v.GetVersion(), Status: s.status, IdentifiedBy: s.by, Date: s.on,
		})).GetVictimCase()
	}
	if v.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_IDENTIFIED_VICTIM {
		t.Fatalf("victim case status %v, want IDENTIFIED_VICTIM", v.GetStatus())
	}
	for _, a := range []traffickingv1.AssistanceType{traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, traffickingv1.AssistanceType_ASSISTANCE_TYPE_PSYCHOSOCIAL} {
		v = must(c.trafficking.RecordAssistance(ctx, &traffickingv1.RecordAssistanceRequest{
			RequestId: uuid.NewString(), CaseId: id, Version: v.GetVersion(), Type: a, StartDate: day(2026, 1, 7), Provider: "IOM",
		})).GetVictimCase()
	}

	// Home through AVRR: a case of its own for the same subject.
	avrr := must(c.intake.OpenCase(ctx, &intakev1.OpenCaseRequest{
		RequestId: uuid.NewString(), FromCaseId: id, Programme: commonv1.Programme_PROGRAMME_AVRR,
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING},
		Consents:        consent(day(2026, 2, 1)), RegistrationDate: day(2026, 2, 1),
	})).GetCase()
	r := must(c.returns.GetReturn(ctx, &returnsv1.GetReturnRequest{CaseId: avrr.GetCaseId()})).GetReturn()
	r = must(c.returns.RecordEligibility(ctx, &returnsv1.RecordEligibilityRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE, DecisionDate: day(2026, 2, 2)},
	})).GetReturn()
	// A victim of trafficking cannot depart before a risk assessment.
	_, err := c.returns.RecordDeparture(ctx, &returnsv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
		Version: r.GetVersion(), DepartureDate: day(2026, 2, 10), ReturnCountry: "MMR"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("departure before the risk assessment: %v, want FAILED_PRECONDITION", err)
	}
	r = must(c.returns.RecordPreDepartureStep(ctx, &returnsv1.RecordPreDepartureStepRequest{
		RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Step: &returnsv1.PreDepartureStep{Date: day(2026, 2, 5), Step: &returnsv1.PreDepartureStep_RiskAssessment{RiskAssessment: returnsv1.RiskLevel_RISK_LEVEL_MEDIUM}},
	})).GetReturn()
	r = must(c.returns.RecordDeparture(ctx, &returnsv1.RecordDepartureRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: r.GetVersion(), DepartureDate: day(2026, 2, 10), ReturnCountry: "MMR"})).GetReturn()
	r = must(c.returns.RecordArrival(ctx, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: day(2026, 2, 10)}})).GetReturn()
	wantStatus(t, r.GetStatus(), returnsv1.ReturnStatus_RETURN_STATUS_ARRIVED)

	// The victim case shows the link once the trafficking service has read intake's event
	// (its consumer polls in the background), and is closed as returned.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		v = must(c.trafficking.GetVictimCase(ctx, &traffickingv1.GetVictimCaseRequest{CaseId: id})).GetVictimCase()
		if slices.Contains(v.GetLinkedCaseIds(), avrr.GetCaseId()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the victim case does not show its AVRR case: %v", v.GetLinkedCaseIds())
		}
	}
	must(c.trafficking.CloseVictimCase(ctx, &traffickingv1.CloseVictimCaseRequest{RequestId: uuid.NewString(),
		CaseId: id, Version: v.GetVersion(), Reason: traffickingv1.ClosureReason_CLOSURE_REASON_RETURNED}))
	wantEvents(t, c.env, id, "passage.intake.v1.CaseRegistered", "passage.trafficking.v1.VictimScreened",
		"passage.trafficking.v1.VictimScreened", "passage.trafficking.v1.AssistanceProvided",
		"passage.trafficking.v1.AssistanceProvided", "passage.trafficking.v1.VictimCaseClosed")
	wantEvents(t, c.env, avrr.GetCaseId(), "passage.intake.v1.CaseRegistered", "passage.returns.v1.EligibilityDecided",
		"passage.returns.v1.PreDepartureStepRecorded", "passage.common.v1.DepartureRecorded", "passage.returns.v1.ArrivalRecorded")
	return id, avrr.GetCaseId()
}

// yemenStrandedMigrant: a stranded migrant in Yemen whose HASM request is approved at HQ and
// who returns home; then a HASM approval refused because the fund is spent.
func yemenStrandedMigrant(t *testing.T, c *clients) string {
	field := c.env.As(t, auth.RoleCaseworker, "YEM")
	hq := c.env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	must(c.hasm.CreateFund(hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-GLOBAL",
		Year: 2026, Currency: "USD", Budget: 100_000}))

	request := func(given string, cost int64) *hasmv1.AssistanceRequest {
		kase := c.register(t, field, &intakev1.RegisterCaseRequest{
			Mission: "YEM", Programme: commonv1.Programme_PROGRAMME_HASM, HostCountry: "YEM",
			Principal: person(given, "Tesfaye", commonv1.Sex_SEX_MALE, day(1995, 3, 3), "ETH"),
			Consents:  consent(day(2026, 3, 1)), RegistrationDate: day(2026, 3, 1),
		})
		return must(c.hasm.RequestAssistance(field, &hasmv1.RequestAssistanceRequest{
			RequestId: uuid.NewString(), CaseId: kase.GetCaseId(),
			StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           cost, Currency: "USD", FundCode: "HASM-GLOBAL", FundYear: 2026,
		})).GetRequest()
	}
	r := request("Abebe", 80_000)
	r = must(c.hasm.DecideRequest(hq, &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: r.GetVersion(), Decision: hasmv1.Decision_DECISION_APPROVE})).GetRequest()
	if r.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_APPROVED {
		t.Fatalf("request status %v, want APPROVED", r.GetStatus())
	}
	r = must(c.hasm.RecordDeparture(field, &hasmv1.RecordDepartureRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: r.GetVersion(), DepartureDate: day(2026, 3, 20), ReturnCountry: "ETH"})).GetRequest()
	r = must(c.hasm.RecordArrival(field, &hasmv1.RecordArrivalRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: r.GetVersion(), ArrivalDate: day(2026, 3, 20)})).GetRequest()
	if r.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED {
		t.Errorf("request status %v, want ARRIVED", r.GetStatus())
	}
	wantEvents(t, c.env, r.GetCaseId(), "passage.intake.v1.CaseRegistered", "passage.hasm.v1.AssistanceRequested",
		"passage.hasm.v1.RequestDecided", "passage.common.v1.DepartureRecorded", "passage.hasm.v1.ArrivalRecorded")

	// The fund has 200 USD left: a 500 USD approval is refused, and nothing is charged.
	second := request("Dawit", 50_000)
	_, err := c.hasm.DecideRequest(hq, &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(),
		CaseId: second.GetCaseId(), Version: second.GetVersion(), Decision: hasmv1.Decision_DECISION_APPROVE})
	st, _ := status.FromError(err)
	var reason string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	if st.Code() != codes.FailedPrecondition || reason != "FUND_INSUFFICIENT" {
		t.Errorf("approval over the fund: %v (reason %q), want FAILED_PRECONDITION FUND_INSUFFICIENT", err, reason)
	}
	fund := must(c.hasm.GetFund(hq, &hasmv1.GetFundRequest{Code: "HASM-GLOBAL", Year: 2026})).GetFund()
	if fund.GetCommitted() != 80_000 || fund.GetRemaining() != 20_000 {
		t.Errorf("fund after the refusal: committed %d remaining %d, want 80000 and 20000", fund.GetCommitted(), fund.GetRemaining())
	}
	still := must(c.hasm.GetRequest(field, &hasmv1.GetRequestRequest{CaseId: second.GetCaseId()})).GetRequest()
	if still.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_REQUESTED || still.GetVersion() != second.GetVersion() {
		t.Errorf("a refused approval changed the request: %v v%d", still.GetStatus(), still.GetVersion())
	}
	return r.GetCaseId()
}

func wantStatus(t *testing.T, got, want returnsv1.ReturnStatus) {
	t.Helper()
	if got != want {
		t.Fatalf("return status %v, want %v", got, want)
	}
}

// events reads the outbox in commit order as its owner, decoding payloads; typ filters by
// event type when set.
func events(t *testing.T, env *testserver.Env, typ string) []proto.Message {
	t.Helper()
	return readEvents(t, env, `SELECT event_id, event_type, aggregate_id, payload FROM outbox.event
WHERE ($1 = '' OR event_type = $1) ORDER BY tx_id, event_id`, typ)
}

// wantEvents checks the types, in order, of the events about one case.
func wantEvents(t *testing.T, env *testserver.Env, caseID string, want ...string) {
	t.Helper()
	var got []string
	for _, e := range readEvents(t, env, `SELECT event_id, event_type, aggregate_id, payload FROM outbox.event
WHERE aggregate_id = $1 AND producer <> 'followup' ORDER BY tx_id, event_id`, caseID) {
		got = append(got, string(proto.MessageName(e)))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events of case %s (-want +got):\n%s", caseID, diff)
	}
}

func readEvents(t *testing.T, env *testserver.Env, sql string, arg string) []proto.Message {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, arg)
	if err != nil {
		t.Fatal(err)
	}
	var out []proto.Message
	var r outbox.Record
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Type, &r.AggregateID, &r.Payload}, func() error {
		m, err := r.Decode()
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return out
}
