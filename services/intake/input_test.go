package intake_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestRegisterCaseBadInput sends each kind of bad registration and checks its code, the field
// it names, and that nothing stored changed.
func TestRegisterCaseBadInput(t *testing.T) {
	t.Parallel()
	b := setupWith(t, 1<<20)
	b.register(t, registration(amina())) // something stored that must stay as it is
	before := b.stored(t)

	tests := []struct {
		name  string
		edit  func(*intakev1.RegisterCaseRequest)
		code  codes.Code
		field string
	}{
		{"unassigned host country", func(r *intakev1.RegisterCaseRequest) { r.HostCountry = "XYZ" }, codes.InvalidArgument, "host_country"},
		{"lower-case host country", func(r *intakev1.RegisterCaseRequest) { r.HostCountry = "ner" }, codes.InvalidArgument, "host_country"},
		{"alpha-2 nationality", func(r *intakev1.RegisterCaseRequest) { r.Principal.Nationality = "NG" }, codes.InvalidArgument, "principal.nationality"},
		{"unassigned issuing country", func(r *intakev1.RegisterCaseRequest) { r.Principal.Documents[0].IssuingCountry = "QQQ" }, codes.InvalidArgument, "principal.documents[0].issuing_country"},
		{"empty given name", func(r *intakev1.RegisterCaseRequest) { r.Principal.GivenName = "" }, codes.InvalidArgument, "principal.given_name"},
		{"blank given name", func(r *intakev1.RegisterCaseRequest) { r.Principal.GivenName = "  \t " }, codes.InvalidArgument, "principal.given_name"},
		{"date of birth in the future", func(r *intakev1.RegisterCaseRequest) {
			r.Principal.DateOfBirth = &date.Date{Year: 2026, Month: 3, Day: 15}
		}, codes.InvalidArgument, "principal.date_of_birth"},
		{"impossible date of birth", func(r *intakev1.RegisterCaseRequest) {
			r.Principal.DateOfBirth = &date.Date{Year: 1990, Month: 2, Day: 30}
		}, codes.InvalidArgument, "principal.date_of_birth"},
		{"unknown programme", func(r *intakev1.RegisterCaseRequest) { r.Programme = 42 }, codes.InvalidArgument, "programme"},
		{"no programme", func(r *intakev1.RegisterCaseRequest) { r.Programme = 0 }, codes.InvalidArgument, "programme"},
		{"household member without identity", func(r *intakev1.RegisterCaseRequest) {
			r.HouseholdMembers = append(r.HouseholdMembers, &commonv1.Person{})
		}, codes.InvalidArgument, "household_members[1].given_name"},
		{"no principal", func(r *intakev1.RegisterCaseRequest) { r.Principal = nil }, codes.InvalidArgument, "principal"},
		{"too many household members", func(r *intakev1.RegisterCaseRequest) {
			for range 30 {
				r.HouseholdMembers = append(r.HouseholdMembers, child("Extra", 2010))
			}
		}, codes.InvalidArgument, "household_members"},
		{"name over the limit", func(r *intakev1.RegisterCaseRequest) { r.Principal.FamilyName = strings.Repeat("x", 201) }, codes.InvalidArgument, "principal.family_name"},
		{"request over the size limit", func(r *intakev1.RegisterCaseRequest) {
			r.Principal.Address = strings.Repeat("rue ", 300_000)
		}, codes.ResourceExhausted, ""},
		{"request id not a UUID", func(r *intakev1.RegisterCaseRequest) { r.RequestId = "retry-1" }, codes.InvalidArgument, "request_id"},
		{"mission malformed", func(r *intakev1.RegisterCaseRequest) { r.Mission = "Niger" }, codes.InvalidArgument, "mission"},
		{"another mission", func(r *intakev1.RegisterCaseRequest) { r.Mission = "DEU" }, codes.PermissionDenied, ""},
		{"no consents", func(r *intakev1.RegisterCaseRequest) { r.Consents = nil }, codes.InvalidArgument, "consents"},
		{"assistance consent refused", func(r *intakev1.RegisterCaseRequest) { r.Consents[0].Granted = false }, codes.FailedPrecondition, ""},
		{"consent in the future", func(r *intakev1.RegisterCaseRequest) { r.Consents[0].Date = &date.Date{Year: 2027, Month: 1, Day: 1} }, codes.InvalidArgument, "consents[0].date"},
		{"data sharing without partner", func(r *intakev1.RegisterCaseRequest) {
			r.Consents = append(r.Consents, &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Date: &date.Date{Year: 2026, Month: 1, Day: 1}})
		}, codes.InvalidArgument, "consents[1].partner"},
		{"adult registered as unaccompanied child", func(r *intakev1.RegisterCaseRequest) {
			r.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD}
		}, codes.InvalidArgument, "vulnerabilities"},
		{"repeated vulnerability", func(r *intakev1.RegisterCaseRequest) {
			r.Vulnerabilities = []commonv1.Vulnerability{3, 3}
		}, codes.InvalidArgument, "vulnerabilities"},
		{"registration date in the future", func(r *intakev1.RegisterCaseRequest) { r.RegistrationDate = &date.Date{Year: 2026, Month: 4, Day: 1} }, codes.InvalidArgument, "registration_date"},
	}
	for _, tt := range tests {
		req := registration(amina(), child("Chidi", 2019))
		tt.edit(req)
		_, err := b.client.RegisterCase(b.worker, req)
		st := testserver.WantCode(t, err, tt.code)
		if tt.field != "" && !slices.Contains(testserver.FieldViolations(st), tt.field) {
			t.Errorf("%s: violations %v do not name %s", tt.name, testserver.FieldViolations(st), tt.field)
		}
		if strings.Contains(st.Message(), "Amina") || strings.Contains(st.Message(), "A09876543") {
			t.Errorf("%s: error message carries personal data: %q", tt.name, st.Message())
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused registrations changed the database (-before +after):\n%s", diff)
	}
}
