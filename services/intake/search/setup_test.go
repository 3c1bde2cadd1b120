package search_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
	"github.com/passage-cm/passage/services/intake"
)

type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	search searchv1.PersonSearchServiceClient
	// worker registers the cases of mission NER; colleague is another caseworker of NER who
	// works on none of them; other is a caseworker of DEU.
	worker, colleague, other context.Context
}

func setup(t testing.TB) *bundle { return setupWith(t, quota.Config{}) }

func setupWith(t testing.TB, q quota.Config) *bundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec()},
		Clock:    testtime.Ticking(testtime.Today).Now,
		Quota:    q,
	})
	return &bundle{
		env:       env,
		intake:    intakev1.NewIntakeServiceClient(env.Conn),
		search:    searchv1.NewPersonSearchServiceClient(env.Conn),
		worker:    env.As(t, auth.RoleCaseworker, "NER"),
		colleague: env.AsStaff(t, "staff-colleague", auth.RoleCaseworker, "NER"),
		other:     env.As(t, auth.RoleCaseworker, "DEU"),
	}
}

func person(given, family string, dob *date.Date, nationality string) *commonv1.Person {
	return &commonv1.Person{GivenName: given, FamilyName: family, DateOfBirth: dob, Sex: commonv1.Sex_SEX_MALE, Nationality: nationality}
}

// register registers p as the principal of a new AVRR case of mission, as ctx's caller, and
// returns the case id and p's subject id.
func (b *bundle) register(t testing.TB, ctx context.Context, mission string, p *commonv1.Person) (caseID, subjectID string) {
	t.Helper()
	resp, err := b.intake.RegisterCase(ctx, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: mission, Programme: commonv1.Programme_PROGRAMME_AVRR, Principal: p,
		HostCountry: mission,
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 3, Day: 1}}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase().GetCaseId(), resp.GetCase().GetSubjectId()
}

func byName(given, family string, dob *date.Date) *searchv1.SearchPersonsRequest {
	return &searchv1.SearchPersonsRequest{Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT,
		Criterion: &searchv1.SearchPersonsRequest_Name{Name: &searchv1.NameCriterion{GivenName: given, FamilyName: family, DateOfBirth: dob}}}
}

func day(y, m, d int32) *date.Date { return &date.Date{Year: y, Month: m, Day: d} }

var cmpProto = protocmp.Transform()

// detailsOf returns the subjects of a status's QuotaFailure details, space-separated.
func detailsOf(st *status.Status) string {
	var out []string
	for _, d := range st.Details() {
		if qf, ok := d.(*errdetails.QuotaFailure); ok {
			for _, v := range qf.GetViolations() {
				out = append(out, v.GetSubject())
			}
		}
	}
	return strings.Join(out, " ")
}

func breakGlass(caseID string) *intakev1.BreakGlassRequest {
	return &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: caseID,
		Reason: "the person is at the counter in distress and must be identified now"}
}
