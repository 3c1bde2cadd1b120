package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// fakeTrafficking records the requests it gets and answers with victim or err. Calling a
// method it does not implement panics.
type fakeTrafficking struct {
	traffickingv1.TraffickingServiceClient
	requests []proto.Message
	victim   *traffickingv1.VictimCase
	err      error
}

func (f *fakeTrafficking) answer(req proto.Message) error {
	f.requests = append(f.requests, proto.Clone(req))
	return f.err
}

func (f *fakeTrafficking) GetVictimCase(_ context.Context, req *traffickingv1.GetVictimCaseRequest, _ ...grpc.CallOption) (*traffickingv1.GetVictimCaseResponse, error) {
	return &traffickingv1.GetVictimCaseResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) ListVictimCases(_ context.Context, req *traffickingv1.ListVictimCasesRequest, _ ...grpc.CallOption) (*traffickingv1.ListVictimCasesResponse, error) {
	return &traffickingv1.ListVictimCasesResponse{VictimCases: []*traffickingv1.VictimCase{f.victim}}, f.answer(req)
}

func (f *fakeTrafficking) RecordScreening(_ context.Context, req *traffickingv1.RecordScreeningRequest, _ ...grpc.CallOption) (*traffickingv1.RecordScreeningResponse, error) {
	return &traffickingv1.RecordScreeningResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) RecordExploitation(_ context.Context, req *traffickingv1.RecordExploitationRequest, _ ...grpc.CallOption) (*traffickingv1.RecordExploitationResponse, error) {
	return &traffickingv1.RecordExploitationResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) RecordAssistance(_ context.Context, req *traffickingv1.RecordAssistanceRequest, _ ...grpc.CallOption) (*traffickingv1.RecordAssistanceResponse, error) {
	return &traffickingv1.RecordAssistanceResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) EndAssistance(_ context.Context, req *traffickingv1.EndAssistanceRequest, _ ...grpc.CallOption) (*traffickingv1.EndAssistanceResponse, error) {
	return &traffickingv1.EndAssistanceResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) RecordLawEnforcementCooperation(_ context.Context, req *traffickingv1.RecordLawEnforcementCooperationRequest, _ ...grpc.CallOption) (*traffickingv1.RecordLawEnforcementCooperationResponse, error) {
	return &traffickingv1.RecordLawEnforcementCooperationResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) AssessRisk(_ context.Context, req *traffickingv1.AssessRiskRequest, _ ...grpc.CallOption) (*traffickingv1.AssessRiskResponse, error) {
	return &traffickingv1.AssessRiskResponse{VictimCase: f.victim}, f.answer(req)
}

func (f *fakeTrafficking) CloseVictimCase(_ context.Context, req *traffickingv1.CloseVictimCaseRequest, _ ...grpc.CallOption) (*traffickingv1.CloseVictimCaseResponse, error) {
	return &traffickingv1.CloseVictimCaseResponse{VictimCase: f.victim}, f.answer(req)
}

func newTestVotCLI(fake *fakeTrafficking) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(tokenEnv)
	return &client{cli: c,
		trafficking: func(clientOptions) (traffickingv1.TraffickingServiceClient, func(), error) {
			return fake, func() {}, nil
		},
	}, stdout, stderr
}

func testVictimCase() *traffickingv1.VictimCase {
	return &traffickingv1.VictimCase{
		CaseId: testCaseID, Mission: "THA", Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_IDENTIFIED_VICTIM, Version: 4,
		Principal:        &intakev1.CaseMember{SubjectId: "subj-1", Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_27_29, Nationality: "MMR"},
		HostCountry:      "THA",
		RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 10},
		IntakeStatus:     intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		Identification: &traffickingv1.Identification{Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM,
			IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_GOVERNMENT, Date: &date.Date{Year: 2026, Month: 3, Day: 13}},
		Exploitation: &traffickingv1.Exploitation{
			Types:                   []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR},
			MeansOfControl:          []traffickingv1.MeansOfControl{traffickingv1.MeansOfControl_MEANS_OF_CONTROL_DEBT_BONDAGE},
			RecruiterRelationship:   traffickingv1.RecruiterRelationship_RECRUITER_RELATIONSHIP_FRIEND,
			CountriesOfExploitation: []string{"THA", "MYS"}, StartYear: 2023,
		},
		Assistance: []*traffickingv1.Assistance{{AssistanceId: "a-1", Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION,
			StartDate: &date.Date{Year: 2026, Month: 3, Day: 10}, Provider: "IOM"}},
		RiskAssessment: &traffickingv1.RiskAssessment{Level: traffickingv1.RiskLevel_RISK_LEVEL_HIGH, Date: &date.Date{Year: 2026, Month: 3, Day: 12},
			Factors: []traffickingv1.RiskFactor{traffickingv1.RiskFactor_RISK_FACTOR_TRAFFICKERS_AT_LARGE}},
		LinkedCaseIds: []string{"avrr-1"},
	}
}

func TestTraffickingCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	d := func(y, m, dd int32) *date.Date { return &date.Date{Year: y, Month: m, Day: dd} }
	for _, tt := range []struct {
		args []string
		want proto.Message
	}{
		{[]string{"screen", testCaseID, "--version", "1", "--status", "presumed_victim", "--by", "iom", "--date", "2026-03-10"},
			&traffickingv1.RecordScreeningRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 1,
				Status:       traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM,
				IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: d(2026, 3, 10)}},
		{[]string{"exploitation", testCaseID, "--version", "2", "--type", "forced_labour", "--type", "SEXUAL_EXPLOITATION",
			"--means", "debt_bondage", "--recruiter", "friend", "--country", "tha", "--country", "MYS", "--start-year", "2023", "--child"},
			&traffickingv1.RecordExploitationRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 2, Exploitation: &traffickingv1.Exploitation{
				Types: []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR,
					traffickingv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL_EXPLOITATION},
				MeansOfControl:          []traffickingv1.MeansOfControl{traffickingv1.MeansOfControl_MEANS_OF_CONTROL_DEBT_BONDAGE},
				RecruiterRelationship:   traffickingv1.RecruiterRelationship_RECRUITER_RELATIONSHIP_FRIEND,
				CountriesOfExploitation: []string{"THA", "MYS"}, StartYear: 2023, ChildAtExploitation: true}}},
		{[]string{"assist", testCaseID, "--version", "3", "--type", "accommodation", "--start", "2026-03-10", "--provider", "ngo-hope",
			"--request-id", "00000000-0000-4000-8000-000000000009"},
			&traffickingv1.RecordAssistanceRequest{RequestId: "00000000-0000-4000-8000-000000000009", CaseId: testCaseID, Version: 3,
				Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: d(2026, 3, 10), Provider: "NGO-HOPE"}},
		{[]string{"end-assistance", testCaseID, "--version", "4", "--assistance", "a-1", "--end", "2026-03-14"},
			&traffickingv1.EndAssistanceRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 4, AssistanceId: "a-1", EndDate: d(2026, 3, 14)}},
		{[]string{"cooperation", testCaseID, "--version", "5", "--status", "testified", "--date", "2026-03-12"},
			&traffickingv1.RecordLawEnforcementCooperationRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 5,
				Status: traffickingv1.CooperationStatus_COOPERATION_STATUS_TESTIFIED, Date: d(2026, 3, 12)}},
		{[]string{"risk", testCaseID, "--version", "6", "--level", "high", "--date", "2026-03-12", "--factor", "traffickers_at_large"},
			&traffickingv1.AssessRiskRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 6, Level: traffickingv1.RiskLevel_RISK_LEVEL_HIGH,
				Date: d(2026, 3, 12), Factors: []traffickingv1.RiskFactor{traffickingv1.RiskFactor_RISK_FACTOR_TRAFFICKERS_AT_LARGE}}},
		{[]string{"close", testCaseID, "--version", "7", "--reason", "returned"},
			&traffickingv1.CloseVictimCaseRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 7,
				Reason: traffickingv1.ClosureReason_CLOSURE_REASON_RETURNED}},
		{[]string{"list", "--status", "presumed_victim", "--page-size", "10"},
			&traffickingv1.ListVictimCasesRequest{Status: traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_PRESUMED_VICTIM, PageSize: 10}},
		{[]string{"get", testCaseID}, &traffickingv1.GetVictimCaseRequest{CaseId: testCaseID}},
	} {
		fake := &fakeTrafficking{victim: testVictimCase()}
		c, stdout, _ := newTestVotCLI(fake)
		if err := c.votRun(t.Context(), tt.args); err != nil {
			t.Errorf("%s: %v", tt.args[0], err)
			continue
		}
		if diff := cmp.Diff([]proto.Message{tt.want}, fake.requests, protocmp.Transform()); diff != "" {
			t.Errorf("%s: requests (-want +got):\n%s", tt.args[0], diff)
		}
		if !strings.Contains(stdout.String(), testCaseID) {
			t.Errorf("%s: output does not show the case:\n%s", tt.args[0], stdout)
		}
	}
}

func TestTraffickingCommandErrors(t *testing.T) {
	t.Parallel()
	stale := status.New(codes.FailedPrecondition, "the victim case changed since it was read: it is at version 5")
	stale, _ = stale.WithDetails(&errdetails.ErrorInfo{Reason: "STALE_VERSION", Metadata: map[string]string{"current_version": "5"}})
	for _, tt := range []struct {
		name       string
		args       []string
		callErr    error
		wantErr    string
		wantStderr string
	}{
		{name: "no version", args: []string{"close", testCaseID, "--reason", "returned"},
			wantErr: "--version is required: the version you read (passage trafficking get)"},
		{name: "missing flag", args: []string{"screen", testCaseID, "--version", "1", "--status", "presumed_victim", "--date", "2026-03-10"},
			wantErr: "--by is required"},
		{name: "unknown value", args: []string{"assist", testCaseID, "--version", "1", "--type", "shelter", "--start", "2026-03-10", "--provider", "IOM"},
			wantErr: "--type must be one of " + votAssistanceTypes.list()},
		{name: "partial date", args: []string{"cooperation", testCaseID, "--version", "1", "--status", "declined", "--date", "2026-03"},
			wantErr: "--date: want YYYY-MM-DD"},
		{name: "no case", args: []string{"risk", "--version", "1", "--level", "low", "--date", "2026-03-10"},
			wantErr: "trafficking risk takes one CASE_ID"},
		{name: "unknown command", args: []string{"delete"}, wantErr: `trafficking: unknown command "delete" (passage trafficking -h for help)`},
		{name: "stale", args: []string{"close", testCaseID, "--version", "4", "--reason", "returned"}, callErr: stale.Err(),
			wantErr: "CloseVictimCase failed: FailedPrecondition", wantStderr: "  current_version: 5"},
		{name: "no reply", args: []string{"close", testCaseID, "--version", "4", "--reason", "returned", "--timeout", "300ms"},
			callErr: status.Error(codes.Unavailable, "connection reset"), wantErr: "CloseVictimCase failed: Unavailable",
			wantStderr: "the server may have applied the request: repeat the command with --request-id " + testRequestID + " to apply it at most once"},
	} {
		fake := &fakeTrafficking{victim: testVictimCase(), err: tt.callErr}
		c, _, stderr := newTestVotCLI(fake)
		err := c.votRun(t.Context(), tt.args)
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if tt.wantStderr != "" && !strings.Contains(stderr.String(), tt.wantStderr+"\n") {
			t.Errorf("%s: stderr = %q, want a line %q", tt.name, stderr, tt.wantStderr)
		}
		if tt.callErr == nil && len(fake.requests) != 0 {
			t.Errorf("%s: a refused command called the server", tt.name)
		}
	}
}

func TestFormatVictimCase(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := formatVictimCase(&b, testVictimCase()); err != nil {
		t.Fatal(err)
	}
	want := `victim case       3f2c9a4e-1b7d-4c1e-9f00-5a6b7c8d9e0f
status            IDENTIFIED_VICTIM   version 4
mission           THA   host THA   registered 2026-03-10   intake case registered
principal         subject subj-1  female, 27-29, MMR
household         0
screening         identified_victim by government on 2026-03-13
exploitation      forced_labour in THA, MYS, 2023-?
means of control  debt_bondage
recruiter         friend
assistance        accommodation by IOM from 2026-03-10 to ongoing  (a-1)
risk              high on 2026-03-12: traffickers_at_large
linked cases      avrr-1
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}
