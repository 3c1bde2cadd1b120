package testserver_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// The services go by Options.Clock: a case registered on a clock standing at testtime.Today
// was created then, whatever the day the test runs.
func TestClockReachesTheServices(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec()},
		Clock:    testtime.NewClock(testtime.Today).Now,
	})
	resp, err := intakev1.NewIntakeServiceClient(env.Conn).RegisterCase(env.As(t, auth.RoleCaseworker, "NER"), &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Amina", FamilyName: "Testperson", Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA"},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: testtime.Day(2026, 3, 14)}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	if got := resp.GetCase().GetCreateTime().AsTime(); !got.Equal(testtime.Today) {
		t.Errorf("the case was created at %v, want %v (the test's clock)", got, testtime.Today)
	}
}
