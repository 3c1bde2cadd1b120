package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
	"github.com/passage-cm/passage/services/intake"
)

// searcherOn returns the search command on service, the token carried by the calls' ctx,
// and its standard output and error.
func searcherOn(service searchv1.PersonSearchServiceClient) (*searcher, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &searcher{cli: cli{getenv: func(string) string { return "carried by ctx" }, stdout: &stdout, stderr: &stderr,
		now: time.Now, newRequestID: uuid.NewString},
		search: func(clientOptions) (searchv1.PersonSearchServiceClient, func(), error) {
			return service, func() {}, nil
		}}, &stdout, &stderr
}

// The search command against a real server: by a transliterated name and a year of birth,
// by document and by phone; the registering caseworker sees the name, a colleague the case
// only; a bad criterion is refused before any call, without quoting it.
func TestSearchCommandAgainstTheServer(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	service := searchv1.NewPersonSearchServiceClient(env.Conn)
	worker := env.As(t, auth.RoleCaseworker, "NER")
	run := func(ctx context.Context, args ...string) (string, string, error) {
		t.Helper()
		s, stdout, stderr := searcherOn(service)
		err := s.run(ctx, args)
		return stdout.String(), stderr.String(), err
	}
	resp, err := intakev1.NewIntakeServiceClient(env.Conn).RegisterCase(worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(),
		Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Khaled", FamilyName: "Mahmoud", DateOfBirth: &date.Date{Year: 1988, Month: 7, Day: 1},
			Nationality: "SDN", Phone: "+249 912 345 678",
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P99", IssuingCountry: "SDN"}}},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 2, Day: 1}}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	caseID := resp.GetCase().GetCaseId()
	for _, tt := range []struct {
		args []string
		rule string
	}{
		{[]string{"--name", "Haled,Mahmud", "--dob", "1988", "--purpose", "case_management"}, "partial_date_of_birth"},
		{[]string{"--document", "passport:sdn:p-99", "--purpose", "case_management"}, "exact"},
		{[]string{"--phone", "0912 345 678", "--purpose", "return_travel"}, "exact"},
	} {
		out, _, err := run(worker, tt.args...)
		if err != nil || !strings.Contains(out, caseID) || !strings.Contains(out, tt.rule) || !strings.Contains(out, "Khaled Mahmoud") {
			t.Errorf("search %v: %v\n%s", tt.args, err, out)
		}
	}
	out, _, err := run(env.AsStaff(t, "staff-colleague", auth.RoleCaseworker, "NER"), "--document", "passport:SDN:P99", "--purpose", "case_management")
	if err != nil || !strings.Contains(out, caseID) || strings.Contains(out, "Khaled") {
		t.Errorf("colleague's search: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"--name", "Khaled,Mahmoud", "--purpose", "case_management"},
		{"--name", "Khaled,Mahmoud", "--dob", "1988", "--phone", "0912345678", "--purpose", "case_management"},
		{"--phone", "0912345678"},
		{"--name", "Khaled,Mahmoud", "--dob", "88-07", "--purpose", "case_management"},
	} {
		_, _, err := run(worker, args...)
		if err == nil || strings.Contains(err.Error(), "Khaled") || strings.Contains(err.Error(), "0912") {
			t.Errorf("search %v: error %v, want a refusal that quotes nothing", args, err)
		}
	}
}

// The elsewhere command against a real server: a supervisor of MAR learns, by document and by
// name with the full date of birth, that NER knows the person, and sees no id and no name; a
// caseworker is refused; a partial date and a missing criterion are refused before any call,
// without quoting a value.
func TestSearchElsewhereCommandAgainstTheServer(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	service := searchv1.NewPersonSearchServiceClient(env.Conn)
	run := func(ctx context.Context, args ...string) (string, error) {
		t.Helper()
		s, stdout, _ := searcherOn(service)
		err := s.elsewhere(ctx, args)
		return stdout.String(), err
	}
	resp, err := intakev1.NewIntakeServiceClient(env.Conn).RegisterCase(env.As(t, auth.RoleCaseworker, "NER"), &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "NER", Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Khaled", FamilyName: "Mahmoud", DateOfBirth: &date.Date{Year: 1988, Month: 7, Day: 1},
			Nationality: "SDN",
			Documents:   []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P99", IssuingCountry: "SDN"}}},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 2, Day: 1}}},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	supervisor := env.As(t, auth.RoleSupervisor, "MAR")
	for _, args := range [][]string{
		{"--document", "passport:SDN:P-99", "--purpose", "case_management"},
		{"--name", "Khaled,Mahmoud", "--dob", "1988-07-01", "--purpose", "case_management"},
	} {
		out, err := run(supervisor, args...)
		if err != nil || !strings.Contains(out, "NER") || !strings.Contains(out, "vot") ||
			strings.Contains(out, resp.GetCase().GetCaseId()) || strings.Contains(out, "Khaled") {
			t.Errorf("search elsewhere %v: %v\n%s", args, err, out)
		}
	}
	if out, err := run(supervisor, "--document", "passport:SDN:P100", "--purpose", "case_management"); err != nil ||
		!strings.Contains(out, "not known in another mission") {
		t.Errorf("search elsewhere for nobody: %v\n%s", err, out)
	}
	if _, err := run(env.As(t, auth.RoleCaseworker, "MAR"), "--document", "passport:SDN:P99", "--purpose", "case_management"); err == nil {
		t.Error("a caseworker's search elsewhere was not refused")
	}
	for _, args := range [][]string{
		{"--name", "Khaled,Mahmoud", "--dob", "1988-07", "--purpose", "case_management"},
		{"--name", "Khaled,Mahmoud", "--purpose", "case_management"},
		{"--document", "passport:SDN:P99", "--name", "Khaled,Mahmoud", "--dob", "1988-07-01", "--purpose", "case_management"},
		{"--document", "passport:SDN:P99"},
	} {
		_, err := run(supervisor, args...)
		if err == nil || strings.Contains(err.Error(), "Khaled") || strings.Contains(err.Error(), "P99") {
			t.Errorf("search elsewhere %v: error %v, want a refusal that quotes nothing", args, err)
		}
	}
}
