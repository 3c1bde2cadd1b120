package trafficking_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/trafficking"
)

type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	vot    traffickingv1.TraffickingServiceClient
	// worker is a caseworker of the mission THA; other is a caseworker of DEU.
	worker, other context.Context
}

// setup runs intake and the trafficking service on one server, the trafficking service's
// consumer of intake's events in the background, as in production.
func setup(t testing.TB) *bundle {
	t.Helper()
	return setupWith(t, true)
}

// setupWith runs the consumer in the background only when background is true; without it,
// the trafficking service learns of cases only by catching up on a miss.
func setupWith(t testing.TB, background bool, opts ...trafficking.Option) *bundle {
	t.Helper()
	spec := trafficking.Spec()
	spec.Register = func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
		svc := trafficking.New(d.Pool, d.Keys, append([]trafficking.Option{
			trafficking.WithClock(d.Clock), trafficking.WithPollInterval(10 * time.Millisecond)}, opts...)...)
		svc.Register(g)
		if !background {
			return nil
		}
		return svc.Run
	}
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), spec},
		// The clock stays on the fixed day both services believe it is, but moves a millisecond
		// a call, so "newest first" is defined.
		Clock: testtime.Ticking(testtime.Today).Now,
	})
	return &bundle{
		env:    env,
		intake: intakev1.NewIntakeServiceClient(env.Conn),
		vot:    traffickingv1.NewTraffickingServiceClient(env.Conn),
		worker: env.As(t, auth.RoleCaseworker, "THA"),
		other:  env.As(t, auth.RoleCaseworker, "DEU"),
	}
}

// day is a calendar date as the protos carry it.
var day = testtime.Day

// thida is the principal of most tests: a young woman from Myanmar found in Thailand.
func thida() *commonv1.Person {
	return &commonv1.Person{
		GivenName: "Thida", FamilyName: "Aung-Kyaw", DateOfBirth: day(1998, 4, 2),
		Sex: commonv1.Sex_SEX_FEMALE, Nationality: "MMR",
	}
}

// registration is a VoT registration in the mission THA.
func registration(p *commonv1.Person, household ...*commonv1.Person) *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId:        uuid.NewString(),
		Mission:          "THA",
		Programme:        commonv1.Programme_PROGRAMME_VOT,
		Principal:        p,
		HouseholdMembers: household,
		Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING},
		HostCountry:      "THA",
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 3, 14),
		}},
	}
}

// register registers a case through intake and waits until the trafficking service knows it
// (for a VoT case), returning the intake case.
func (b *bundle) register(t *testing.T, req *intakev1.RegisterCaseRequest) *intakev1.Case {
	t.Helper()
	resp, err := b.intake.RegisterCase(b.worker, req)
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	if req.GetProgramme() == commonv1.Programme_PROGRAMME_VOT {
		b.await(t, resp.GetCase().GetCaseId(), func(*traffickingv1.VictimCase) bool { return true })
	}
	return resp.GetCase()
}

// await reads a victim case until cond holds. Events are read only behind the oldest
// transaction running in the whole cluster (see outbox.Consumer), and other tests' databases
// are being created alongside, so the case may take a moment to appear.
func (b *bundle) await(t *testing.T, caseID string, cond func(*traffickingv1.VictimCase) bool) *traffickingv1.VictimCase {
	t.Helper()
	var last error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := b.vot.GetVictimCase(b.worker, &traffickingv1.GetVictimCaseRequest{CaseId: caseID})
		if err == nil && cond(resp.GetVictimCase()) {
			return resp.GetVictimCase()
		}
		if err != nil && status.Code(err) != codes.NotFound {
			t.Fatalf("GetVictimCase: %v", err)
		}
		last = err
	}
	t.Fatalf("the victim case never reached the expected state (last error %v)", last)
	return nil
}

// get reads a victim case that must exist.
func (b *bundle) get(t *testing.T, caseID string) *traffickingv1.VictimCase {
	t.Helper()
	resp, err := b.vot.GetVictimCase(b.worker, &traffickingv1.GetVictimCaseRequest{CaseId: caseID})
	if err != nil {
		t.Fatalf("GetVictimCase: %v", err)
	}
	return resp.GetVictimCase()
}

// screen records a screening outcome by IOM on 2026-03-14 and returns the case.
func (b *bundle) screen(t *testing.T, c *traffickingv1.VictimCase, s traffickingv1.IdentificationStatus) *traffickingv1.VictimCase {
	t.Helper()
	resp, err := b.vot.RecordScreening(b.worker, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), Status: s,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: day(2026, 3, 14)})
	if err != nil {
		t.Fatalf("RecordScreening: %v", err)
	}
	return resp.GetVictimCase()
}

// newVictim registers a VoT case and returns its victim case, screened as s unless s is
// unspecified.
func (b *bundle) newVictim(t *testing.T, s traffickingv1.IdentificationStatus) *traffickingv1.VictimCase {
	t.Helper()
	c := b.get(t, b.register(t, registration(thida())).GetCaseId())
	if s == traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_UNSPECIFIED {
		return c
	}
	return b.screen(t, c, s)
}

// stored returns the row counts of every table a mutation writes and the sum of the victim
// cases' versions, to prove a refusal wrote nothing.
func (b *bundle) stored(t *testing.T) map[string]int {
	t.Helper()
	out := b.env.RowCounts(t, "trafficking.victim_case", "trafficking.assistance", "trafficking.idempotency", "outbox.event")
	out["versions"] = b.env.Count(t, "trafficking.victim_case, generate_series(1, version)")
	return out
}

// events returns the trafficking service's events in the outbox, oldest first.
func (b *bundle) events(t *testing.T) []proto.Message {
	t.Helper()
	return testserver.Payloads(b.env.Events(t, "trafficking"))
}

// errorReason returns the reason of a status's ErrorInfo detail.
func errorReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// intakeConsentFlags leaves out the per-person flags intake derives from consent when a victim
// case's people are compared with intake's: the victim case keeps the coded attributes, and
// its own assistance_allowed for the case.
var intakeConsentFlags = protocmp.IgnoreFields(&intakev1.CaseMember{}, "assistance_allowed", "in_statistics")
