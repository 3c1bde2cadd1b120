package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/retrypolicy"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	testCaseID    = "3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f"
	testRequestID = "00000000-0000-4000-8000-000000000001"
)

// testNow is 01:30 on 15 March in UTC+2: still 14 March in UTC, the day consents get.
var testNow = time.Date(2026, 3, 15, 1, 30, 0, 0, time.FixedZone("EET", 2*3600))

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    *date.Date
		wantErr error
	}{
		{"1990", &date.Date{Year: 1990}, nil},
		{"1990-05", &date.Date{Year: 1990, Month: 5}, nil},
		{"1990-05-17", &date.Date{Year: 1990, Month: 5, Day: 17}, nil},
		{"1990-5-7", &date.Date{Year: 1990, Month: 5, Day: 7}, nil},
		{" 2000-02-29 ", &date.Date{Year: 2000, Month: 2, Day: 29}, nil},
		{"", nil, errDateFormat},
		{"90", nil, errDateFormat},
		{"19900", nil, errDateFormat},
		{"1990-", nil, errDateFormat},
		{"1990-123", nil, errDateFormat},
		{"1990-05-17-01", nil, errDateFormat},
		{"199a", nil, errDateFormat},
		{"1990-+5", nil, errDateFormat},
		{"17/05/1990", nil, errDateFormat},
		{"1990-00", nil, errDateInvalid},
		{"1990-05-00", nil, errDateInvalid},
		{"1990-13", nil, errDateInvalid},
		{"1990-02-29", nil, errDateInvalid},
		{"1899", nil, errDateInvalid},
	}
	for _, tt := range tests {
		wantParsed(t, "parseDate", parseDate, tt.in, tt.want, tt.wantErr)
	}
}

// wantParsed fails the test unless parse (named name) returns want for in, with an error
// that is wantErr.
func wantParsed(t *testing.T, name string, parse func(string) (*date.Date, error), in string, want *date.Date, wantErr error) {
	t.Helper()
	got, err := parse(in)
	if !errors.Is(err, wantErr) {
		t.Errorf("%s(%q) error = %v, want %v", name, in, err, wantErr)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("%s(%q) (-want +got):\n%s", name, in, diff)
	}
}

func TestParseFullDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    *date.Date
		wantErr error
	}{
		{"2026-03-14", &date.Date{Year: 2026, Month: 3, Day: 14}, nil},
		{"2026-03", nil, errFullDateFormat},
		{"2026", nil, errFullDateFormat},
		{"14.03.2026", nil, errFullDateFormat},
		{"2026-04-31", nil, errDateInvalid},
	}
	for _, tt := range tests {
		wantParsed(t, "parseFullDate", parseFullDate, tt.in, tt.want, tt.wantErr)
	}
}

func TestFormatDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   *date.Date
		want string
	}{
		{nil, ""},
		{&date.Date{}, ""},
		{&date.Date{Year: 1990}, "1990"},
		{&date.Date{Year: 1990, Month: 5}, "1990-05"},
		{&date.Date{Year: 2026, Month: 3, Day: 4}, "2026-03-04"},
	}
	for _, tt := range tests {
		if got := formatDate(tt.in); got != tt.want {
			t.Errorf("formatDate(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnumNamesList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    enumNames
		want []string
	}{
		{"programmes", programmes, []string{"avrr", "vot", "hasm"}},
		{"sexes", sexes, []string{"female", "male", "other", "unknown"}},
		{"update statuses", updateStatuses, []string{"active", "suspended"}},
		{"statuses", statuses, []string{"registered", "active", "suspended", "closed"}},
		{"purposes", purposes, []string{"assistance", "data_sharing", "statistics"}},
		{"document types", documentTypes, []string{
			"passport", "national_id", "birth_certificate", "residence_permit", "emergency_travel_document",
			"laissez_passer", "refugee_travel_document", "consular_card", "other",
		}},
		{"closure reasons", closureReasons, []string{
			"assistance_completed", "withdrawn_by_beneficiary", "not_eligible", "lost_contact",
			"duplicate", "deceased", "transferred", "other",
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.e.names); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// Every vulnerability of the .proto but the zero value, in value order.
	if got, want := len(vulnerabilities.names), len(commonv1.Vulnerability_value)-1; got != want {
		t.Errorf("vulnerabilities has %d names, want %d", got, want)
	}
	if got := vulnerabilities.names[0]; got != "victim_of_trafficking" {
		t.Errorf("first vulnerability = %q, want victim_of_trafficking", got)
	}
}

func TestEnumNamesParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e       enumNames
		in      string
		want    int32
		wantErr string
	}{
		{sexes, "female", int32(commonv1.Sex_SEX_FEMALE), ""},
		{sexes, " Male ", int32(commonv1.Sex_SEX_MALE), ""},
		{sexes, "SEX_UNKNOWN", int32(commonv1.Sex_SEX_UNKNOWN), ""},
		{programmes, "VoT", int32(commonv1.Programme_PROGRAMME_VOT), ""},
		{vulnerabilities, "unaccompanied_migrant_child", int32(commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD), ""},
		{sexes, "unspecified", 0, "must be one of female, male, other, unknown"},
		{sexes, "", 0, "must be one of female, male, other, unknown"},
		{updateStatuses, "closed", 0, "must be one of active, suspended"},
		{programmes, "avr", 0, "must be one of avrr, vot, hasm"},
	}
	for _, tt := range tests {
		got, err := tt.e.parse(tt.in)
		if got != tt.want || errString(err) != tt.wantErr {
			t.Errorf("parse(%q) = %d, %q; want %d, %q", tt.in, got, errString(err), tt.want, tt.wantErr)
		}
	}
}

func TestParseDocument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    *commonv1.IdentityDocument
		wantErr string
	}{
		{"passport:nga:A 123:45", &commonv1.IdentityDocument{
			Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, IssuingCountry: "NGA", Number: "A 123:45",
		}, ""},
		{"laissez_passer:NER:LP-9", &commonv1.IdentityDocument{
			Type: commonv1.DocumentType_DOCUMENT_TYPE_LAISSEZ_PASSER, IssuingCountry: "NER", Number: "LP-9",
		}, ""},
		{"passport:NGA", nil, "want TYPE:COUNTRY:NUMBER"},
		{"passport:NGA: ", nil, "want TYPE:COUNTRY:NUMBER"},
		{"visa:NGA:X1", nil, "TYPE must be one of " + documentTypes.list()},
	}
	for _, tt := range tests {
		got, err := parseDocument(tt.in)
		if errString(err) != tt.wantErr {
			t.Errorf("parseDocument(%q) error = %q, want %q", tt.in, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("parseDocument(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseHousehold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    *commonv1.Person
		wantErr string
	}{
		{"Musa;Bello;2015-06;male;nga", &commonv1.Person{
			GivenName: "Musa", FamilyName: "Bello", DateOfBirth: &date.Date{Year: 2015, Month: 6},
			Sex: commonv1.Sex_SEX_MALE, Nationality: "NGA",
		}, ""},
		{"Awa", &commonv1.Person{GivenName: "Awa"}, ""},
		{"Awa;;;female", &commonv1.Person{GivenName: "Awa", Sex: commonv1.Sex_SEX_FEMALE}, ""},
		{";Bello", nil, "GIVEN is required (GIVEN;FAMILY;DOB;SEX;NATIONALITY)"},
		{"Musa;Bello;2015;male;NGA;extra", nil, "want GIVEN;FAMILY;DOB;SEX;NATIONALITY (at most 5 fields)"},
		// A date of birth in the wrong place: the error must not repeat it.
		{"Musa;Bello;male;2015-06-01", nil, "DOB: want YYYY, YYYY-MM or YYYY-MM-DD"},
		{"Musa;Bello;2015;Bello", nil, "SEX must be one of female, male, other, unknown"},
	}
	for _, tt := range tests {
		got, err := parseHousehold(tt.in)
		if errString(err) != tt.wantErr {
			t.Errorf("parseHousehold(%q) error = %q, want %q", tt.in, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("parseHousehold(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseConsent(t *testing.T) {
	t.Parallel()
	day := &date.Date{Year: 2026, Month: 3, Day: 14}
	tests := []struct {
		in      string
		want    *commonv1.Consent
		wantErr string
	}{
		{"assistance", &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day}, ""},
		{"data_sharing:unhcr", &commonv1.Consent{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Date: day, Partner: "UNHCR",
		}, ""},
		{"marketing", nil, "PURPOSE must be one of assistance, data_sharing, statistics"},
	}
	for _, tt := range tests {
		got, err := parseConsent(tt.in, day)
		if errString(err) != tt.wantErr {
			t.Errorf("parseConsent(%q) error = %q, want %q", tt.in, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("parseConsent(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// registerRequestFromArgs parses args with the register flags and builds the request.
func registerRequestFromArgs(t *testing.T, env map[string]string, args ...string) (*intakev1.RegisterCaseRequest, error) {
	t.Helper()
	c, _, _ := newTestCLI(&fakeIntake{}, env)
	fs, _ := c.groupFlagSet("case", "register", "register", nil)
	var f registerFlags
	f.bind(fs, c.getenv)
	if _, _, err := parseFlags(fs, args); err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	return f.request(testNow)
}

func TestRegisterRequest(t *testing.T) {
	t.Parallel()
	today := &date.Date{Year: 2026, Month: 3, Day: 14}
	assistance := &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: today}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    *intakev1.RegisterCaseRequest
		wantErr string
	}{
		{
			name: "every flag",
			args: []string{
				"--mission", "ner-agadez", "--programme", "avrr", "--host-country", "ner",
				"--given-name", "Amina", "--family-name", "Bello", "--dob", "1990", "--sex", "female",
				"--nationality", "nga", "--document", "passport:NGA:A1234567", "--document", "national_id:NGA:99",
				"--phone", "+227 90 00 00 00", "--address", "Quartier Sabon Gari",
				"--household", "Musa;Bello;2015-06;male;NGA", "--household", "Awa;Bello",
				"--vulnerability", "victim_of_trafficking", "--vulnerability", "medical_needs",
				"--consent", "assistance", "--consent", "data_sharing:UNHCR",
				"--registration-date", "2026-03-10", "--request-id", testRequestID,
			},
			want: &intakev1.RegisterCaseRequest{
				RequestId: testRequestID,
				Mission:   "NER-AGADEZ",
				Programme: commonv1.Programme_PROGRAMME_AVRR,
				Principal: &commonv1.Person{
					GivenName: "Amina", FamilyName: "Bello", DateOfBirth: &date.Date{Year: 1990},
					Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA",
					Documents: []*commonv1.IdentityDocument{
						{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, IssuingCountry: "NGA", Number: "A1234567"},
						{Type: commonv1.DocumentType_DOCUMENT_TYPE_NATIONAL_ID, IssuingCountry: "NGA", Number: "99"},
					},
					Phone: "+227 90 00 00 00", Address: "Quartier Sabon Gari",
				},
				HouseholdMembers: []*commonv1.Person{
					{GivenName: "Musa", FamilyName: "Bello", DateOfBirth: &date.Date{Year: 2015, Month: 6}, Sex: commonv1.Sex_SEX_MALE, Nationality: "NGA"},
					{GivenName: "Awa", FamilyName: "Bello"},
				},
				Vulnerabilities: []commonv1.Vulnerability{
					commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING, commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS,
				},
				HostCountry: "NER",
				Consents: []*commonv1.Consent{
					assistance,
					{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Date: today, Partner: "UNHCR"},
				},
				RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 10},
			},
		},
		{
			name: "defaults: mission from the environment, assistance consent today (UTC)",
			env:  map[string]string{"PASSAGE_MISSION": "NER"},
			args: []string{"--programme", "hasm", "--given-name", "Amina"},
			want: &intakev1.RegisterCaseRequest{
				Mission:   "NER",
				Programme: commonv1.Programme_PROGRAMME_HASM,
				Principal: &commonv1.Person{GivenName: "Amina"},
				Consents:  []*commonv1.Consent{assistance},
			},
		},
		{
			name:    "no mission",
			args:    []string{"--programme", "avrr", "--given-name", "Amina"},
			wantErr: "--mission is required (or set PASSAGE_MISSION)",
		},
		{
			name:    "no programme",
			args:    []string{"--mission", "NER", "--given-name", "Amina"},
			wantErr: "--programme must be one of avrr, vot, hasm",
		},
		{
			name:    "no given name",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", " "},
			wantErr: "--given-name is required",
		},
		{
			name:    "bad date of birth, not repeated",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", "Amina", "--dob", "17/05/1990"},
			wantErr: "--dob: want YYYY, YYYY-MM or YYYY-MM-DD",
		},
		{
			name:    "partial registration date",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", "Amina", "--registration-date", "2026-03"},
			wantErr: "--registration-date: want YYYY-MM-DD",
		},
		{
			name:    "second document",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", "Amina", "--document", "passport:NGA:1", "--document", "A1234567"},
			wantErr: "--document #2: want TYPE:COUNTRY:NUMBER",
		},
		{
			name:    "household",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", "Amina", "--household", ";Bello"},
			wantErr: "--household #1: GIVEN is required (GIVEN;FAMILY;DOB;SEX;NATIONALITY)",
		},
		{
			name:    "vulnerability",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", "Amina", "--vulnerability", "tired"},
			wantErr: "--vulnerability must be one of " + vulnerabilities.list(),
		},
		{
			name:    "consent",
			args:    []string{"--mission", "NER", "--programme", "avrr", "--given-name", "Amina", "--consent", "assistance", "--consent", "x"},
			wantErr: "--consent #2: PURPOSE must be one of assistance, data_sharing, statistics",
		},
	}
	for _, tt := range tests {
		got, err := registerRequestFromArgs(t, tt.env, tt.args...)
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: request (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseRegisterJSON(t *testing.T) {
	t.Parallel()
	got, err := parseRegisterJSON([]byte(`{"mission": "NER", "programme": "PROGRAMME_VOT",
		"principal": {"givenName": "Amina", "dateOfBirth": {"year": 1990}},
		"consents": [{"purpose": "CONSENT_PURPOSE_ASSISTANCE", "granted": true, "date": {"year": 2026, "month": 3, "day": 14}}]}`))
	if err != nil {
		t.Fatalf("parseRegisterJSON: %v", err)
	}
	want := &intakev1.RegisterCaseRequest{
		Mission:   "NER",
		Programme: commonv1.Programme_PROGRAMME_VOT,
		Principal: &commonv1.Person{GivenName: "Amina", DateOfBirth: &date.Date{Year: 1990}},
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: &date.Date{Year: 2026, Month: 3, Day: 14},
		}},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("parseRegisterJSON (-want +got):\n%s", diff)
	}

	// A date of birth as a string is an error whose text must not repeat it.
	_, err = parseRegisterJSON([]byte("{\n  \"principal\": {\"dateOfBirth\": \"1990-05-17\"}\n}"))
	if want := "--file: not a RegisterCaseRequest in protobuf JSON (fault at line 2:32)"; errString(err) != want {
		t.Errorf("parseRegisterJSON(bad) error = %q, want %q", errString(err), want)
	}
}

func TestListRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		f       listFlags
		want    *intakev1.ListCasesRequest
		wantErr string
	}{
		{
			name: "every filter",
			f: listFlags{
				mission: "ner", programme: "vot", status: "active", hostCountry: "ner", from: "2026-01-01", to: "2026-03-31",
				pageSize: 10, pageToken: "tok",
			},
			want: &intakev1.ListCasesRequest{
				Mission: "NER", Programme: commonv1.Programme_PROGRAMME_VOT, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE,
				HostCountry: "NER", RegisteredFrom: &date.Date{Year: 2026, Month: 1, Day: 1},
				RegisteredTo: &date.Date{Year: 2026, Month: 3, Day: 31}, PageSize: 10, PageToken: "tok",
			},
		},
		{name: "no filter", want: &intakev1.ListCasesRequest{}},
		{name: "all pages, big pages", f: listFlags{all: true}, want: &intakev1.ListCasesRequest{PageSize: 100}},
		{name: "all pages, chosen size", f: listFlags{all: true, pageSize: 5}, want: &intakev1.ListCasesRequest{PageSize: 5}},
		{name: "status", f: listFlags{status: "open"}, wantErr: "--status must be one of registered, active, suspended, closed"},
		{name: "from", f: listFlags{from: "2026"}, wantErr: "--from: want YYYY-MM-DD"},
		{name: "to", f: listFlags{to: "2026-02-30"}, wantErr: "--to: not a valid calendar date"},
		{name: "page size", f: listFlags{pageSize: 101}, wantErr: "--page-size must be between 1 and 100"},
		// The caseload.
		{name: "mine", f: listFlags{mine: true}, want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME}},
		{name: "a colleague's", f: listFlags{assignee: "cw-binta"},
			want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF, AssigneeStaffId: "cw-binta"}},
		{name: "unassigned, waiting longest", f: listFlags{unassigned: true, sort: "activity_asc", vulnerability: "medical_needs",
			activeBefore: "2026-03-01", activeAfter: "2026-01-01T08:00:00Z"},
			want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED,
				OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC, Vulnerability: commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS,
				ActiveAfter:  timestamppb.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)),
				ActiveBefore: timestamppb.New(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}},
		{name: "names", f: listFlags{mine: true, names: true, purpose: "case_management"},
			want: &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME,
				View: intakev1.CaseListView_CASE_LIST_VIEW_WITH_NAMES, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}},
		{name: "two assignees", f: listFlags{mine: true, unassigned: true}, wantErr: "--mine, --assignee and --unassigned go one at a time"},
		{name: "names without purpose", f: listFlags{names: true}, wantErr: "case list --names needs --purpose: " + accessPurposes.list()},
		{name: "purpose without names", f: listFlags{purpose: "case_management"}, wantErr: "--purpose goes with --names"},
		{name: "time", f: listFlags{activeAfter: "yesterday"}, wantErr: "--active-after must be RFC 3339 (2026-11-27T05:00:00Z) or a date (2026-11-27)"},
		{name: "sort", f: listFlags{sort: "name"}, wantErr: "--sort must be one of " + caseOrders.list()},
	}
	for _, tt := range tests {
		got, err := tt.f.request()
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: request (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestUpdateRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    *intakev1.UpdateCaseRequest
		wantErr string
	}{
		{
			name: "status only",
			args: []string{"--version", "3", "--status", "active"},
			want: &intakev1.UpdateCaseRequest{
				CaseId: testCaseID, Version: 3, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}},
			},
		},
		{
			name: "everything",
			args: []string{
				"--vulnerability", "medical_needs", "--host-country", "mli", "--status", "suspended",
				"--version", "4", "--vulnerability", "older_person", "--request-id", testRequestID,
			},
			want: &intakev1.UpdateCaseRequest{
				RequestId: testRequestID, CaseId: testCaseID, Version: 4,
				Status: intakev1.CaseStatus_CASE_STATUS_SUSPENDED, HostCountry: "MLI",
				Vulnerabilities: []commonv1.Vulnerability{
					commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON,
				},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status", "host_country", "vulnerabilities"}},
			},
		},
		{
			name: "clear host country and vulnerabilities",
			args: []string{"--version", "2", "--host-country", "", "--vulnerability", "none"},
			want: &intakev1.UpdateCaseRequest{
				CaseId: testCaseID, Version: 2,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"host_country", "vulnerabilities"}},
			},
		},
		{name: "no version", args: []string{"--status", "active"}, wantErr: "--version is required: the version you read (passage case get)"},
		{name: "nothing", args: []string{"--version", "2"}, wantErr: "nothing to update: give --status, --host-country or --vulnerability"},
		{name: "closing", args: []string{"--version", "2", "--status", "closed"}, wantErr: "--status must be one of active, suspended"},
		{
			name:    "none and more",
			args:    []string{"--version", "2", "--vulnerability", "none", "--vulnerability", "medical_needs"},
			wantErr: "--vulnerability none cannot go with other vulnerabilities",
		},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("update", flag.ContinueOnError)
		var f updateFlags
		f.bind(fs)
		_, given, err := parseFlags(fs, tt.args)
		if err != nil {
			t.Fatalf("%s: parseFlags: %v", tt.name, err)
		}
		got, err := f.request(testCaseID, given)
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: request (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCloseRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version int64
		reason  string
		want    *intakev1.CloseCaseRequest
		wantErr string
	}{
		{5, "lost_contact", &intakev1.CloseCaseRequest{
			CaseId: testCaseID, Version: 5, Reason: intakev1.ClosureReason_CLOSURE_REASON_LOST_CONTACT, RequestId: testRequestID,
		}, ""},
		{0, "lost_contact", nil, "--version is required: the version you read (passage case get)"},
		{5, "", nil, "--reason must be one of " + closureReasons.list()},
	}
	for _, tt := range tests {
		got, err := closeRequest(testCaseID, tt.version, tt.reason, testRequestID)
		if errString(err) != tt.wantErr {
			t.Errorf("closeRequest(%d, %q) error = %q, want %q", tt.version, tt.reason, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("closeRequest(%d, %q) (-want +got):\n%s", tt.version, tt.reason, diff)
		}
	}
}

func TestParseFlagsPositional(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantPos  []string
		wantFull bool
	}{
		{[]string{"abc", "--full"}, []string{"abc"}, true},
		{[]string{"--full", "abc"}, []string{"abc"}, true},
		{[]string{"abc"}, []string{"abc"}, false},
		{[]string{"abc", "def", "--full"}, []string{"abc", "def"}, true},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("get", flag.ContinueOnError)
		full := fs.Bool("full", false, "")
		pos, given, err := parseFlags(fs, tt.args)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", tt.args, err)
		}
		if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
			t.Errorf("parseFlags(%q) positional (-want +got):\n%s", tt.args, diff)
		}
		if *full != tt.wantFull || given["full"] != tt.wantFull {
			t.Errorf("parseFlags(%q): full = %v, given = %v, want %v", tt.args, *full, given["full"], tt.wantFull)
		}
	}
}

func TestResolveOptions(t *testing.T) {
	t.Parallel()
	type result struct {
		Addr      string
		Token     string
		Plaintext bool
		Err       string
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want result
	}{
		{"defaults", map[string]string{"PASSAGE_TOKEN": " tok\n"}, nil,
			result{Addr: defaultAddr, Token: "tok", Plaintext: true}},
		{"flag beats environment", map[string]string{"PASSAGE_TOKEN": "env", "PASSAGE_ADDR": "10.0.0.1:7070"}, []string{"--token", "flag"},
			result{Addr: "10.0.0.1:7070", Token: "flag"}},
		{"remote address uses TLS", nil, []string{"--token", "t", "--addr", "passage.example:443"},
			result{Addr: "passage.example:443", Token: "t"}},
		{"explicit --insecure", nil, []string{"--token", "t", "--addr", "10.0.0.1:7070", "--insecure"},
			result{Addr: "10.0.0.1:7070", Token: "t", Plaintext: true}},
		{"explicit --insecure=false on loopback", nil, []string{"--token", "t", "--insecure=false"},
			result{Addr: defaultAddr, Token: "t"}},
		{"no token", nil, nil, result{Addr: defaultAddr, Err: errNoToken.Error()}},
		{"bad timeout", nil, []string{"--token", "t", "--timeout", "0s"},
			result{Addr: defaultAddr, Token: "t", Plaintext: true, Err: "--timeout must be positive"}},
	}
	for _, tt := range tests {
		c, _, _ := newTestCLI(&fakeIntake{}, tt.env)
		fs, o := c.groupFlagSet("case", "get", "get", nil)
		_, given, err := parseFlags(fs, tt.args)
		if err != nil {
			t.Fatalf("%s: parseFlags: %v", tt.name, err)
		}
		err = o.resolve(given, c.getenv)
		got := result{Addr: o.addr, Token: o.token, Plaintext: o.tls.Plaintext, Err: errString(err)}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testCase() *intakev1.Case {
	return &intakev1.Case{
		CaseId:    testCaseID,
		Mission:   "NER",
		Programme: commonv1.Programme_PROGRAMME_AVRR,
		Status:    intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		Version:   1,
		SubjectId: "a1",
		Principal: &intakev1.CaseMember{
			SubjectId: "a1", Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_30_38, Nationality: "NGA",
		},
		HouseholdMembers: []*intakev1.CaseMember{
			{SubjectId: "b2", Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_9_17, Nationality: "NGA"},
			{SubjectId: "c3", Sex: commonv1.Sex_SEX_UNKNOWN, AgeBand: commonv1.AgeBand_AGE_BAND_UNKNOWN},
		},
		Vulnerabilities: []commonv1.Vulnerability{
			commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING, commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS,
		},
		HostCountry: "NER",
		Consents: []*commonv1.Consent{
			{
				Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
				Date: &date.Date{Year: 2026, Month: 3, Day: 14}, RecordedBy: "dev-caseworker",
			},
			{
				Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Partner: "UNHCR",
				Date: &date.Date{Year: 2026, Month: 3, Day: 14}, RecordedBy: "dev-caseworker",
			},
		},
		RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 14},
		UpdateTime:       timestamppb.New(time.Date(2026, 3, 14, 10, 2, 3, 0, time.UTC)),
	}
}

const testCaseText = `case        3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f
status      REGISTERED   version 1
mission     NER   programme AVRR   host NER   registered 2026-03-14
principal   subject a1  female, 30-38, NGA
household   2
            subject b2  male, 9-17, NGA
            subject c3  sex unknown, age unknown, nationality unknown
vulnerable  victim_of_trafficking, medical_needs
consents    assistance granted 2026-03-14 by dev-caseworker
            data_sharing with UNHCR refused 2026-03-14 by dev-caseworker
updated     2026-03-14 10:02:03 UTC
`

func TestFormatCase(t *testing.T) {
	t.Parallel()
	closed := testCase()
	closed.Status = intakev1.CaseStatus_CASE_STATUS_CLOSED
	closed.ClosureReason = intakev1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED
	closed.Version = 7
	closed.HouseholdMembers, closed.Vulnerabilities, closed.Consents, closed.HostCountry, closed.UpdateTime = nil, nil, nil, "", nil
	closed.Principal.AgeBand = commonv1.AgeBand_AGE_BAND_48_PLUS

	tests := []struct {
		name string
		c    *intakev1.Case
		want string
	}{
		{"registered", testCase(), testCaseText},
		{"closed, sparse", closed, `case        3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f
status      CLOSED   version 7
closed      assistance_completed
mission     NER   programme AVRR   host -   registered 2026-03-14
principal   subject a1  female, 48+, NGA
household   0
vulnerable  -
consents    -
`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := formatCase(&b, tt.c); err != nil {
			t.Fatalf("%s: formatCase: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("%s: formatCase (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestFormatRegister(t *testing.T) {
	t.Parallel()
	resp := &intakev1.RegisterCaseResponse{
		Case: testCase(),
		SuspectedDuplicates: []*intakev1.SuspectedDuplicate{{
			CaseId: "9e1d", SubjectId: "z9", MatchedSubjectId: "a1",
			MatchedOn: []intakev1.MatchBasis{
				intakev1.MatchBasis_MATCH_BASIS_DOCUMENT, intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY,
			},
			Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_FULL,
		}, {
			MatchedSubjectId: "a2", MatchedOn: []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT},
			Disclosure: intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_REDACTED, AskRole: "supervisor",
		}},
	}
	var b bytes.Buffer
	if err := formatRegister(&b, resp); err != nil {
		t.Fatalf("formatRegister: %v", err)
	}
	want := testCaseText +
		"suspected duplicate: case 9e1d (subject z9) matched subject a1 on document; name date of birth nationality\n" +
		"suspected duplicate: a case you do not work on matched subject a2 on document; ask the mission's supervisor\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("formatRegister (-want +got):\n%s", diff)
	}
}

func TestFormatGet(t *testing.T) {
	t.Parallel()
	resp := &intakev1.GetCaseResponse{
		Case: testCase(),
		Identity: &intakev1.CaseIdentity{
			Principal: &intakev1.PersonIdentity{SubjectId: "a1", Person: &commonv1.Person{
				GivenName: "Amina", FamilyName: "Bello", DateOfBirth: &date.Date{Year: 1990, Month: 5},
				Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA",
				Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, IssuingCountry: "NGA", Number: "A1234567"}},
				Phone:     "+227 90 00 00 00",
			}},
			HouseholdMembers: []*intakev1.PersonIdentity{
				{SubjectId: "b2", Person: &commonv1.Person{GivenName: "Musa", DateOfBirth: &date.Date{Year: 2015}}},
			},
		},
	}
	var b bytes.Buffer
	if err := formatGet(&b, resp); err != nil {
		t.Fatalf("formatGet: %v", err)
	}
	want := testCaseText + `
identity (personal data)
principal      subject a1
  name         Amina Bello
  born         1990-05
  sex          female
  nationality  NGA
  document     passport NGA A1234567
  phone        +227 90 00 00 00
member         subject b2
  name         Musa
  born         2015
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("formatGet (-want +got):\n%s", diff)
	}

	// The basic view has no identity section.
	b.Reset()
	if err := formatGet(&b, &intakev1.GetCaseResponse{Case: testCase()}); err != nil {
		t.Fatalf("formatGet: %v", err)
	}
	if diff := cmp.Diff(testCaseText, b.String()); diff != "" {
		t.Errorf("formatGet(basic) (-want +got):\n%s", diff)
	}
}

func TestFormatList(t *testing.T) {
	t.Parallel()
	other := testCase()
	other.CaseId, other.Status, other.Programme, other.HostCountry, other.Version = "8b0e5a1c-2d3f-4e5a-8b6c-7d8e9f0a1b2c",
		intakev1.CaseStatus_CASE_STATUS_SUSPENDED, commonv1.Programme_PROGRAMME_HASM, "", 12
	other.HouseholdMembers = nil
	var b bytes.Buffer
	formatListHeader(&b)
	formatListRow(&b, testCase())
	formatListRow(&b, other)
	want := `CASE                                  STATUS      PROGRAMME  HOST  REGISTERED  HOUSEHOLD  VERSION
3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f  REGISTERED  AVRR       NER   2026-03-14          2        1
8b0e5a1c-2d3f-4e5a-8b6c-7d8e9f0a1b2c  SUSPENDED   HASM       -     2026-03-14          0       12
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("list output (-want +got):\n%s", diff)
	}
}

func TestWriteStatus(t *testing.T) {
	t.Parallel()
	withDetails := func(c codes.Code, msg string, details ...protoadapt.MessageV1) *status.Status {
		st := status.New(c, msg)
		for _, d := range details {
			var err error
			if st, err = st.WithDetails(d); err != nil {
				t.Fatalf("WithDetails: %v", err)
			}
		}
		return st
	}
	tests := []struct {
		name string
		st   *status.Status
		want string
	}{
		{
			name: "plain",
			st:   status.New(codes.NotFound, "case not found"),
			want: "NotFound: case not found\n",
		},
		{
			name: "field violations",
			st: withDetails(codes.InvalidArgument, "invalid request: principal.given_name: is required",
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
					{Field: "principal.given_name", Description: "is required"},
					{Field: "household_members[1].date_of_birth", Description: "must not be in the future"},
				}}),
			want: `InvalidArgument: invalid request: principal.given_name: is required
  principal.given_name: is required
  household_members[1].date_of_birth: must not be in the future
`,
		},
		{
			name: "stale version",
			st: withDetails(codes.FailedPrecondition, "the case changed since it was read: it is at version 3",
				&errdetails.ErrorInfo{Reason: "STALE_VERSION", Domain: "passage.intake.v1", Metadata: map[string]string{
					"current_version": "3", "b": "x",
				}},
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{
					{Type: "VERSION", Subject: "cases/" + testCaseID, Description: "current version is 3"},
				}},
				&errdetails.RetryInfo{RetryDelay: durationpb.New(2 * time.Second)},
				&errdetails.ResourceInfo{ResourceType: "case"}),
			want: `FailedPrecondition: the case changed since it was read: it is at version 3
  reason: STALE_VERSION
  b: x
  current_version: 3
  VERSION cases/3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f: current version is 3
  retry after: 2s
  detail: google.rpc.ResourceInfo
`,
		},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		writeStatus(&b, tt.st)
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// Commands, against a fake IntakeService client.

// fakeIntake records the requests it gets and answers with resp or err; ListCases answers
// from pages, by page token. Calling a method it does not implement panics.
type fakeIntake struct {
	intakev1.IntakeServiceClient
	opts     clientOptions
	requests []proto.Message
	resp     proto.Message
	pages    map[string]*intakev1.ListCasesResponse
	err      error
}

func (f *fakeIntake) RegisterCase(_ context.Context, req *intakev1.RegisterCaseRequest, _ ...grpc.CallOption) (*intakev1.RegisterCaseResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.RegisterCaseResponse), nil
}

func (f *fakeIntake) GetCase(_ context.Context, req *intakev1.GetCaseRequest, _ ...grpc.CallOption) (*intakev1.GetCaseResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.GetCaseResponse), nil
}

func (f *fakeIntake) ListCases(_ context.Context, req *intakev1.ListCasesRequest, _ ...grpc.CallOption) (*intakev1.ListCasesResponse, error) {
	f.requests = append(f.requests, proto.Clone(req))
	if f.err != nil {
		return nil, f.err
	}
	return f.pages[req.GetPageToken()], nil
}

func (f *fakeIntake) UpdateCase(_ context.Context, req *intakev1.UpdateCaseRequest, _ ...grpc.CallOption) (*intakev1.UpdateCaseResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.UpdateCaseResponse), nil
}

func (f *fakeIntake) CloseCase(_ context.Context, req *intakev1.CloseCaseRequest, _ ...grpc.CallOption) (*intakev1.CloseCaseResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.CloseCaseResponse), nil
}

// testCLI is the command line every command group's tests run: env is its environment, its
// standard input is empty, its clock stands at testNow and its request ids are testRequestID;
// what it prints goes to the buffers returned.
func testCLI(env map[string]string) (cli, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return cli{
		getenv:       func(k string) string { return env[k] },
		stdin:        strings.NewReader(""),
		stdout:       &stdout,
		stderr:       &stderr,
		now:          func() time.Time { return testNow },
		newRequestID: func() string { return testRequestID },
	}, &stdout, &stderr
}

func newTestCLI(fake *fakeIntake, env map[string]string) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(env)
	return &client{cli: c, intake: func(o clientOptions) (intakev1.IntakeServiceClient, func(), error) {
		fake.opts = o
		return fake, func() {}, nil
	}}, stdout, stderr
}

var tokenEnv = map[string]string{"PASSAGE_TOKEN": "tok", "PASSAGE_MISSION": "NER"}

func TestRegisterCommand(t *testing.T) {
	t.Parallel()
	fake := &fakeIntake{resp: &intakev1.RegisterCaseResponse{Case: testCase()}}
	c, stdout, stderr := newTestCLI(fake, tokenEnv)
	err := c.caseRun(t.Context(), []string{"register", "--programme", "avrr", "--given-name", "Amina", "--sex", "female"})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	want := []proto.Message{&intakev1.RegisterCaseRequest{
		RequestId: testRequestID,
		Mission:   "NER",
		Programme: commonv1.Programme_PROGRAMME_AVRR,
		Principal: &commonv1.Person{GivenName: "Amina", Sex: commonv1.Sex_SEX_FEMALE},
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: &date.Date{Year: 2026, Month: 3, Day: 14},
		}},
	}}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(clientOptions{addr: defaultAddr, token: "tok", tls: mtls.ClientFlags{Plaintext: true}, timeout: 30 * time.Second}, fake.opts,
		cmp.AllowUnexported(clientOptions{}), cmpopts.IgnoreFields(clientOptions{}, "stderr")); diff != "" {
		t.Errorf("client options (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testCaseText, stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	wantErr := "request id " + testRequestID + " (if no reply arrives, repeat the command with --request-id " + testRequestID + ")\n"
	if diff := cmp.Diff(wantErr, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestRegisterCommandFromFile(t *testing.T) {
	t.Parallel()
	fake := &fakeIntake{resp: &intakev1.RegisterCaseResponse{Case: testCase()}}
	c, stdout, _ := newTestCLI(fake, tokenEnv)
	c.stdin = strings.NewReader(`{"programme": "PROGRAMME_VOT", "principal": {"givenName": "Amina"}}`)
	if err := c.caseRun(t.Context(), []string{"register", "--file", "-", "--json"}); err != nil {
		t.Fatalf("register --file: %v", err)
	}
	want := []proto.Message{&intakev1.RegisterCaseRequest{
		RequestId: testRequestID,
		Mission:   "NER",
		Programme: commonv1.Programme_PROGRAMME_VOT,
		Principal: &commonv1.Person{GivenName: "Amina"},
	}}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// --json prints the response as protobuf JSON.
	got := &intakev1.RegisterCaseResponse{}
	if err := protojson.Unmarshal(stdout.Bytes(), got); err != nil {
		t.Fatalf("stdout is not protobuf JSON: %v\n%s", err, stdout)
	}
	if diff := cmp.Diff(&intakev1.RegisterCaseResponse{Case: testCase()}, got, protocmp.Transform()); diff != "" {
		t.Errorf("JSON response (-want +got):\n%s", diff)
	}

	// Flags describing the request do not go with --file.
	c, _, _ = newTestCLI(&fakeIntake{}, tokenEnv)
	err := c.caseRun(t.Context(), []string{"register", "--file", "-", "--given-name", "Amina"})
	if want := "--given-name cannot go with --file: the file holds the whole request"; errString(err) != want {
		t.Errorf("register --file --given-name: error = %q, want %q", errString(err), want)
	}
}

func TestListCommandAll(t *testing.T) {
	t.Parallel()
	second := testCase()
	second.CaseId = "8b0e5a1c-2d3f-4e5a-8b6c-7d8e9f0a1b2c"
	fake := &fakeIntake{pages: map[string]*intakev1.ListCasesResponse{
		"":   {Cases: []*intakev1.Case{testCase()}, NextPageToken: "p2"},
		"p2": {Cases: []*intakev1.Case{second}},
	}}
	c, stdout, stderr := newTestCLI(fake, map[string]string{"PASSAGE_TOKEN": "tok"})
	if err := c.caseRun(t.Context(), []string{"list", "--status", "registered", "--all"}); err != nil {
		t.Fatalf("list --all: %v", err)
	}
	// Every page carries the same filters.
	want := []proto.Message{
		&intakev1.ListCasesRequest{Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, PageSize: 100},
		&intakev1.ListCasesRequest{Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, PageSize: 100, PageToken: "p2"},
	}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got := strings.Count(stdout.String(), "\n"); got != 3 {
		t.Errorf("stdout has %d lines, want a header and 2 cases:\n%s", got, stdout)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

func TestListCommandOnePage(t *testing.T) {
	t.Parallel()
	fake := &fakeIntake{pages: map[string]*intakev1.ListCasesResponse{
		"": {Cases: []*intakev1.Case{testCase()}, NextPageToken: "p2"},
	}}
	c, _, stderr := newTestCLI(fake, map[string]string{"PASSAGE_TOKEN": "tok"})
	if err := c.caseRun(t.Context(), []string{"list"}); err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(fake.requests) != 1 {
		t.Errorf("list made %d calls, want 1", len(fake.requests))
	}
	if want := "more cases: add --page-token p2 (or use --all)\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}

func TestUpdateCommandStale(t *testing.T) {
	t.Parallel()
	st, err := status.New(codes.FailedPrecondition, "the case changed since it was read: it is at version 3").
		WithDetails(&errdetails.ErrorInfo{Reason: "STALE_VERSION", Metadata: map[string]string{"current_version": "3"}})
	if err != nil {
		t.Fatalf("WithDetails: %v", err)
	}
	fake := &fakeIntake{err: st.Err()}
	c, stdout, stderr := newTestCLI(fake, tokenEnv)
	err = c.caseRun(t.Context(), []string{"update", testCaseID, "--version", "2", "--status", "active"})
	var rpcErr *rpcError
	if !errors.As(err, &rpcErr) || rpcErr.code != codes.FailedPrecondition {
		t.Fatalf("update error = %v, want an rpcError with FailedPrecondition", err)
	}
	if want := "UpdateCase failed: FailedPrecondition"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	want := "request id " + testRequestID + " (if no reply arrives, repeat the command with --request-id " + testRequestID + ")\n" +
		"FailedPrecondition: the case changed since it was read: it is at version 3\n" +
		"  reason: STALE_VERSION\n" +
		"  current_version: 3\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		callErr error
		wantErr string
		// wantStderr is a line stderr must contain.
		wantStderr string
	}{
		{name: "no token", args: []string{"get", testCaseID}, wantErr: errNoToken.Error()},
		{name: "get without id", env: tokenEnv, args: []string{"get"}, wantErr: "case get takes one CASE_ID"},
		{name: "unknown command", args: []string{"delete"}, wantErr: `case: unknown command "delete" (passage case -h for help)`},
		{name: "no command", args: nil, wantErr: errUsage.Error()},
		{name: "unknown flag", env: tokenEnv, args: []string{"list", "--colour"}, wantErr: "case list: flag provided but not defined: -colour (passage case list -h for help)"},
		{
			name: "close without reply", env: tokenEnv, args: []string{"close", testCaseID, "--version", "2", "--reason", "duplicate", "--timeout", "400ms"},
			callErr: status.Error(codes.Unavailable, "connection reset"), wantErr: "CloseCase failed: Unavailable",
			wantStderr: "the server may have applied the request: repeat the command with --request-id " + testRequestID + " to apply it at most once",
		},
		{
			name: "retries announced at once", env: tokenEnv, args: []string{"close", testCaseID, "--version", "2", "--reason", "duplicate", "--timeout", "400ms"},
			callErr: status.Error(codes.Unavailable, "connection reset"), wantErr: "CloseCase failed: Unavailable",
			wantStderr: "retrying until the --timeout of 400ms ends (interrupt to stop)",
		},
		{
			name: "database away, nothing applied", env: tokenEnv, args: []string{"close", testCaseID, "--version", "2", "--reason", "duplicate", "--timeout", "400ms"},
			callErr: nothingApplied(t), wantErr: "CloseCase failed: Unavailable",
			wantStderr: "the server applied nothing: repeat the command when it is available (--request-id " + testRequestID + " keeps a repeat safe)",
		},
		{
			name: "expired token", env: tokenEnv, args: []string{"get", testCaseID, "--full", "--purpose", "case_management"},
			callErr: status.Error(codes.Unauthenticated, "token expired"), wantErr: "GetCase failed: Unauthenticated",
			wantStderr: "check --token or PASSAGE_TOKEN (tokens expire)",
		},
	}
	for _, tt := range tests {
		fake := &fakeIntake{err: tt.callErr}
		c, _, stderr := newTestCLI(fake, tt.env)
		err := c.caseRun(t.Context(), tt.args)
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if retrypolicy.Retryable(tt.callErr) {
			// Retried to the deadline, each time as it was: the same request id.
			if len(fake.requests) < 2 || !slices.ContainsFunc(fake.requests[1:], func(m proto.Message) bool { return proto.Equal(m, fake.requests[0]) }) {
				t.Errorf("%s: %d requests, want the same request retried", tt.name, len(fake.requests))
			}
		}
		if tt.wantStderr != "" && !strings.Contains(stderr.String(), tt.wantStderr+"\n") {
			t.Errorf("%s: stderr = %q, want a line %q", tt.name, stderr, tt.wantStderr)
		}
	}
}

func TestGetCommandFull(t *testing.T) {
	t.Parallel()
	fake := &fakeIntake{resp: &intakev1.GetCaseResponse{Case: testCase()}}
	c, stdout, _ := newTestCLI(fake, tokenEnv)
	if err := c.caseRun(t.Context(), []string{"get", "--full", testCaseID, "--addr", "passage.example:443"}); err == nil || !strings.Contains(err.Error(), "--purpose") {
		t.Errorf("get --full without --purpose: err = %v, want one naming --purpose", err)
	}
	if err := c.caseRun(t.Context(), []string{"get", "--full", "--purpose", "case_management", testCaseID, "--addr", "passage.example:443"}); err != nil {
		t.Fatalf("get: %v", err)
	}
	want := []proto.Message{&intakev1.GetCaseRequest{CaseId: testCaseID, View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if fake.opts.tls.Plaintext {
		t.Error("a remote address got a plaintext connection")
	}
	if diff := cmp.Diff(testCaseText, stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// nothingApplied is the status a Passage server answers when the database could not be
// reached and nothing was applied.
func nothingApplied(t *testing.T) error {
	t.Helper()
	st, err := status.New(codes.Unavailable, "the database is unavailable").WithDetails(&errdetails.ErrorInfo{
		Domain: "passage", Reason: "DATABASE_UNAVAILABLE", Metadata: map[string]string{"may_have_applied": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}
