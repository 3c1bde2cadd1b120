package hasm_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
)

type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	client hasmv1.StrandedMigrantServiceClient
	svc    *hasm.Service
	// worker is a caseworker of the mission in Yemen, other one of Germany's; hq is a
	// programme manager at HQ and admin an admin there.
	worker, other, hq, admin context.Context
}

// setup runs intake and HASM on one server, as `passage serve` does.
func setup(t testing.TB) *bundle {
	t.Helper()
	b := &bundle{}
	spec := hasm.Spec()
	spec.Register = func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
		b.svc = hasm.New(d.Pool, d.Keys, hasm.WithClock(d.Clock))
		b.svc.Register(g)
		return nil // no consumer in the background: the service and the tests catch up on intake's events
	}
	b.env = testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), spec},
		// The clock stays on the fixed day the services believe it is, but moves a millisecond
		// a call, so "newest first" is defined.
		Clock: testtime.Ticking(testtime.Today).Now,
	})
	b.intake = intakev1.NewIntakeServiceClient(b.env.Conn)
	b.client = hasmv1.NewStrandedMigrantServiceClient(b.env.Conn)
	b.worker = b.env.As(t, auth.RoleCaseworker, "YEM")
	b.other = b.env.As(t, auth.RoleCaseworker, "DEU")
	b.hq = b.env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	b.admin = b.env.As(t, auth.RoleAdmin, auth.MissionHQ)
	return b
}

// abebe is a stranded migrant in Yemen: a recognisable name that must never leave the vault.
func abebe() *commonv1.Person {
	return &commonv1.Person{
		GivenName: "Abebe", FamilyName: "Tesfaye-Woldemariam", Sex: commonv1.Sex_SEX_MALE,
		DateOfBirth: &date.Date{Year: 1998, Month: 2, Day: 3}, Nationality: "ETH",
		Documents: []*commonv1.IdentityDocument{{
			Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "EP7654321", IssuingCountry: "ETH",
		}},
		Phone: "+967 77 123 4567",
	}
}

func brother() *commonv1.Person {
	return &commonv1.Person{GivenName: "Dawit", FamilyName: "Tesfaye-Woldemariam", Sex: commonv1.Sex_SEX_MALE,
		DateOfBirth: &date.Date{Year: 2010, Month: 6, Day: 1}, Nationality: "ETH"}
}

// registerCase registers a case through intake, as a caseworker of mission.
func (b *bundle) registerCase(t *testing.T, ctx context.Context, mission string, programme commonv1.Programme, household ...*commonv1.Person) *intakev1.Case {
	t.Helper()
	resp, err := b.intake.RegisterCase(ctx, &intakev1.RegisterCaseRequest{
		RequestId:        uuid.NewString(),
		Mission:          mission,
		Programme:        programme,
		Principal:        abebe(),
		HouseholdMembers: household,
		Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS},
		HostCountry:      mission,
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 3, Day: 14},
		}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

// hasmCase registers a HASM case in Yemen.
func (b *bundle) hasmCase(t *testing.T, household ...*commonv1.Person) *intakev1.Case {
	t.Helper()
	return b.registerCase(t, b.worker, "YEM", commonv1.Programme_PROGRAMME_HASM, household...)
}

func (b *bundle) createFund(t *testing.T, code string, budget int64) *hasmv1.Fund {
	t.Helper()
	resp, err := b.client.CreateFund(b.hq, &hasmv1.CreateFundRequest{
		RequestId: uuid.NewString(), Code: code, Year: 2026, Currency: "USD", Budget: budget,
	})
	if err != nil {
		t.Fatalf("CreateFund: %v", err)
	}
	return resp.GetFund()
}

func assistance(caseID, fund string, cost int64) *hasmv1.RequestAssistanceRequest {
	return &hasmv1.RequestAssistanceRequest{
		RequestId:               uuid.NewString(),
		CaseId:                  caseID,
		StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
		NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
		EstimatedCost:           cost,
		Currency:                "USD",
		FundCode:                fund,
		FundYear:                2026,
	}
}

// requestFor registers a HASM case and requests assistance for it.
func (b *bundle) requestFor(t *testing.T, fund string, cost int64) *hasmv1.AssistanceRequest {
	t.Helper()
	c := b.hasmCase(t)
	resp, err := b.client.RequestAssistance(b.worker, assistance(c.GetCaseId(), fund, cost))
	if err != nil {
		t.Fatalf("RequestAssistance: %v", err)
	}
	return resp.GetRequest()
}

func approval(r *hasmv1.AssistanceRequest) *hasmv1.DecideRequestRequest {
	return &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Decision: hasmv1.Decision_DECISION_APPROVE}
}

func rejection(r *hasmv1.AssistanceRequest, reason hasmv1.RejectionReason) *hasmv1.DecideRequestRequest {
	return &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		Decision: hasmv1.Decision_DECISION_REJECT, RejectionReason: reason}
}

func departure(r *hasmv1.AssistanceRequest) *hasmv1.RecordDepartureRequest {
	return &hasmv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		DepartureDate: &date.Date{Year: 2026, Month: 3, Day: 10}, ReturnCountry: "ETH"}
}

func arrival(r *hasmv1.AssistanceRequest) *hasmv1.RecordArrivalRequest {
	return &hasmv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(),
		ArrivalDate: &date.Date{Year: 2026, Month: 3, Day: 11}}
}

func closing(r *hasmv1.AssistanceRequest, reason hasmv1.ClosureReason) *hasmv1.CloseRequestRequest {
	return &hasmv1.CloseRequestRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(), Version: r.GetVersion(), Reason: reason}
}

// admin runs a query as the database owner.
func (b *bundle) query(t *testing.T, sql string, args ...any) pgx.Rows {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), b.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// stored returns the row counts of every table a HASM mutation writes, and the fund's
// committed amounts, to prove a refusal wrote nothing.
func (b *bundle) stored(t *testing.T) map[string]int {
	t.Helper()
	out := b.env.RowCounts(t, "hasm.request", "hasm.fund", "hasm.idempotency", "outbox.event")
	out["committed"] = b.env.QueryInt(t, "SELECT coalesce(sum(committed), 0)::int FROM hasm.fund")
	out["fund versions"] = b.env.QueryInt(t, "SELECT coalesce(sum(version), 0)::int FROM hasm.fund")
	out["request versions"] = b.env.QueryInt(t, "SELECT coalesce(sum(version), 0)::int FROM hasm.request")
	return out
}

// events returns the events HASM wrote, oldest first.
func (b *bundle) events(t *testing.T) []testserver.Event {
	t.Helper()
	return b.env.Events(t, "hasm")
}

// errorInfo returns a status's ErrorInfo detail, or nil.
func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i
		}
	}
	return nil
}
