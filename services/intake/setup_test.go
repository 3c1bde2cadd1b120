package intake_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// today is the fixed day the service believes it is, so that ages and "future" are stable.
var today = testtime.Today

type bundle struct {
	env    *testserver.Env
	client intakev1.IntakeServiceClient
	// worker is a caseworker of the mission NER; other is a caseworker of DEU.
	worker, other context.Context
}

func setup(t testing.TB) *bundle {
	t.Helper()
	return setupWith(t, 0)
}

func setupWith(t testing.TB, maxRecv int) *bundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{
		Services:        []bootstrap.Service{intake.Spec()},
		MaxRecvMsgBytes: maxRecv,
		// The clock stays on today but moves a millisecond a call, so "newest first" is defined.
		Clock: testtime.Ticking(today).Now,
	})
	return &bundle{
		env:    env,
		client: intakev1.NewIntakeServiceClient(env.Conn),
		worker: env.As(t, auth.RoleCaseworker, "NER"),
		other:  env.As(t, auth.RoleCaseworker, "DEU"),
	}
}

// amina is the principal of most tests: a recognisable name that must never leave the vault.
func amina() *commonv1.Person {
	return &commonv1.Person{
		GivenName:   "Amina",
		FamilyName:  "Zawadi-Okonkwo",
		DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17},
		Sex:         commonv1.Sex_SEX_FEMALE,
		Nationality: "NGA",
		Documents: []*commonv1.IdentityDocument{{
			Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "A09876543", IssuingCountry: "NGA",
		}},
		Phone:   "+227 90 12 34 56",
		Address: "Quartier Plateau, rue 12, Niamey",
	}
}

func child(given string, year int32) *commonv1.Person {
	return &commonv1.Person{
		GivenName: given, FamilyName: "Zawadi-Okonkwo", Sex: commonv1.Sex_SEX_MALE,
		DateOfBirth: &date.Date{Year: year, Month: 1, Day: 2}, Nationality: "NGA",
	}
}

func assistanceConsent() []*commonv1.Consent {
	return []*commonv1.Consent{{
		Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
		Date: &date.Date{Year: 2026, Month: 3, Day: 14},
	}}
}

func registration(p *commonv1.Person, household ...*commonv1.Person) *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId:        uuid.NewString(),
		Mission:          "NER",
		Programme:        commonv1.Programme_PROGRAMME_AVRR,
		Principal:        p,
		HouseholdMembers: household,
		Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS},
		HostCountry:      "NER",
		Consents:         assistanceConsent(),
	}
}

func (b *bundle) register(t *testing.T, req *intakev1.RegisterCaseRequest) *intakev1.RegisterCaseResponse {
	t.Helper()
	resp, err := b.client.RegisterCase(b.worker, req)
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp
}

// stored returns the row counts of every table a mutation writes, to prove a refusal wrote
// nothing.
func (b *bundle) stored(t *testing.T) map[string]int {
	t.Helper()
	return b.env.RowCounts(t, `intake."case"`, "intake.case_member", "intake.consent", "intake.idempotency",
		"vault.identity", "vault.blind_index", "outbox.event")
}

func withToken(tok string) context.Context {
	return testserver.WithToken(context.Background(), tok)
}
