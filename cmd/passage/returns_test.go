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
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// fakeReturns records the last request and answers with ret, or err.
type fakeReturns struct {
	returnsv1.ReturnServiceClient // calls the tests do not expect panic
	last                          proto.Message
	ret                           *returnsv1.Return
	err                           error
}

func (f *fakeReturns) GetReturn(_ context.Context, req *returnsv1.GetReturnRequest, _ ...grpc.CallOption) (*returnsv1.GetReturnResponse, error) {
	f.last = req
	return &returnsv1.GetReturnResponse{Return: f.ret}, f.err
}

func (f *fakeReturns) RecordPreDepartureStep(_ context.Context, req *returnsv1.RecordPreDepartureStepRequest, _ ...grpc.CallOption) (*returnsv1.RecordPreDepartureStepResponse, error) {
	f.last = req
	return &returnsv1.RecordPreDepartureStepResponse{Return: f.ret}, f.err
}

func (f *fakeReturns) RecordDeparture(_ context.Context, req *returnsv1.RecordDepartureRequest, _ ...grpc.CallOption) (*returnsv1.RecordDepartureResponse, error) {
	f.last = req
	if f.err != nil {
		return nil, f.err
	}
	return &returnsv1.RecordDepartureResponse{Return: f.ret}, nil
}

func (f *fakeReturns) RecordAssistance(_ context.Context, req *returnsv1.RecordAssistanceRequest, _ ...grpc.CallOption) (*returnsv1.RecordAssistanceResponse, error) {
	f.last = req
	return &returnsv1.RecordAssistanceResponse{Return: f.ret}, f.err
}

func (f *fakeReturns) RecordMonitoringVisit(_ context.Context, req *returnsv1.RecordMonitoringVisitRequest, _ ...grpc.CallOption) (*returnsv1.RecordMonitoringVisitResponse, error) {
	f.last = req
	return &returnsv1.RecordMonitoringVisitResponse{Return: f.ret}, f.err
}

func (f *fakeReturns) RecordEligibility(_ context.Context, req *returnsv1.RecordEligibilityRequest, _ ...grpc.CallOption) (*returnsv1.RecordEligibilityResponse, error) {
	f.last = req
	return &returnsv1.RecordEligibilityResponse{Return: f.ret}, f.err
}

func newReturnsCLI(fake *fakeReturns) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(map[string]string{"PASSAGE_TOKEN": "tok"})
	return &client{cli: c,
		returns: func(clientOptions) (returnsv1.ReturnServiceClient, func(), error) { return fake, func() {}, nil },
	}, stdout, stderr
}

const testSubject = "9a1b2c3d-0000-4000-8000-00000000000a"

func TestReturnsRequests(t *testing.T) {
	t.Parallel()
	d := func(m, dd int32) *date.Date { return &date.Date{Year: 2026, Month: m, Day: dd} }
	tests := []struct {
		name string
		args []string
		want proto.Message
	}{
		{"eligible", []string{"eligibility", testCaseID, "--version", "1", "--eligible", "--decided", "2026-01-15", "--counselled", "2026-01-12"},
			&returnsv1.RecordEligibilityRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 1, Decision: &returnsv1.EligibilityDecision{
				Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE, DecisionDate: d(1, 15), CounsellingDate: d(1, 12)}}},
		{"not eligible", []string{"eligibility", testCaseID, "--version", "2", "--not-eligible", "already_assisted", "--decided", "2026-01-15"},
			&returnsv1.RecordEligibilityRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 2, Decision: &returnsv1.EligibilityDecision{
				Eligibility: returnsv1.Eligibility_ELIGIBILITY_NOT_ELIGIBLE, IneligibilityReason: returnsv1.IneligibilityReason_INELIGIBILITY_REASON_ALREADY_ASSISTED, DecisionDate: d(1, 15)}}},
		{"travel document", []string{"step", testCaseID, "--version", "3", "--date", "2026-01-20", "--travel-document", "emergency_travel_document", "--subject", testSubject},
			&returnsv1.RecordPreDepartureStepRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 3, Step: &returnsv1.PreDepartureStep{
				Date: d(1, 20), SubjectId: testSubject, Step: &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: commonv1.DocumentType_DOCUMENT_TYPE_EMERGENCY_TRAVEL_DOCUMENT}}}},
		{"guardian", []string{"step", testCaseID, "--version", "3", "--date", "2026-01-20", "--guardian", "--request-id", "00000000-0000-4000-8000-000000000009"},
			&returnsv1.RecordPreDepartureStepRequest{RequestId: "00000000-0000-4000-8000-000000000009", CaseId: testCaseID, Version: 3, Step: &returnsv1.PreDepartureStep{
				Date: d(1, 20), Step: &returnsv1.PreDepartureStep_GuardianAppointed{GuardianAppointed: &returnsv1.GuardianAppointed{}}}}},
		{"departure with two of the household", []string{"depart", testCaseID, "--version", "6", "--date", "2026-02-03", "--to", "irq", "--traveller", testSubject, "--traveller", testCaseID},
			&returnsv1.RecordDepartureRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 6, DepartureDate: d(2, 3), ReturnCountry: "IRQ",
				TravellingSubjectIds: []string{testSubject, testCaseID}}},
		{"business start-up", []string{"assist", testCaseID, "--version", "9", "--date", "2026-02-20", "--type", "business_start_up", "--dimension", "economic",
			"--provider", "iom-irq", "--amount-minor", "150000", "--currency", "eur"},
			&returnsv1.RecordAssistanceRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 9, Assistance: &returnsv1.Assistance{
				Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP, Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC, DeliveryDate: d(2, 20),
				Provider: "IOM-IRQ", Value: &returnsv1.Money{AmountMinor: 150000, CurrencyCode: "EUR"}}}},
		{"visit", []string{"visit", testCaseID, "--version", "10", "--date", "2026-03-01", "--economic", "0.35", "--social", "0.5", "--psychosocial", "0.4",
			"--indicator", "eco-1=0.3"},
			&returnsv1.RecordMonitoringVisitRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 10, Visit: &returnsv1.MonitoringVisit{
				VisitDate: d(3, 1), EconomicScore: proto.Float64(0.35), SocialScore: proto.Float64(0.5), PsychosocialScore: proto.Float64(0.4),
				Indicators: []*returnsv1.IndicatorScore{{IndicatorId: "ECO-1", Score: 0.3}}}}},
	}
	for _, tt := range tests {
		fake := &fakeReturns{ret: &returnsv1.Return{CaseId: testCaseID}}
		c, _, stderr := newReturnsCLI(fake)
		if err := c.returnsRun(context.Background(), tt.args); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, fake.last, protocmp.Transform()); diff != "" {
			t.Errorf("%s: request (-want +got):\n%s", tt.name, diff)
		}
		if !strings.Contains(stderr.String(), "request id ") {
			t.Errorf("%s: the request id is not announced: %q", tt.name, stderr.String())
		}
	}
}

func TestReturnsRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"eligibility", testCaseID, "--eligible", "--decided", "2026-01-15"},                                                                                      // no version
		{"eligibility", testCaseID, "--version", "1", "--decided", "2026-01-15"},                                                                                  // neither decision
		{"step", testCaseID, "--version", "1", "--date", "2026-01-20", "--guardian", "--booking", "air"},                                                          // two steps
		{"assist", testCaseID, "--version", "1", "--date", "2026-02-20", "--type", "cash", "--dimension", "economic", "--provider", "IOM", "--amount-minor", "5"}, // no currency
		{"visit", testCaseID, "--version", "1", "--date", "2026-03-01", "--economic", "0.3", "--social", "0.2"},                                                   // no psychosocial
		{"visit", testCaseID, "--version", "1", "--date", "2026-03-01", "--economic", "1.3", "--social", "0.2", "--psychosocial", "0.1"},
		{"depart", testCaseID, "--version", "1", "--date", "03/02/2026", "--to", "IRQ"},
	} {
		fake := &fakeReturns{}
		c, _, _ := newReturnsCLI(fake)
		if err := c.returnsRun(context.Background(), args); err == nil {
			t.Errorf("%v: no error", args)
		}
		if fake.last != nil {
			t.Errorf("%v: a request was sent", args)
		}
	}
}

func TestReturnsPrintsReturnAndErrors(t *testing.T) {
	t.Parallel()
	fake := &fakeReturns{ret: &returnsv1.Return{
		CaseId: testCaseID, Status: returnsv1.ReturnStatus_RETURN_STATUS_REINTEGRATION, Version: 12, Mission: "DEU", HostCountry: "DEU",
		Departure: &returnsv1.Departure{DepartureDate: &date.Date{Year: 2026, Month: 2, Day: 3}, ReturnCountry: "IRQ", TravellingSubjectIds: []string{"a", "b", "c"}},
		MonitoringVisits: []*returnsv1.MonitoringVisit{{VisitDate: &date.Date{Year: 2026, Month: 3, Day: 1},
			EconomicScore: proto.Float64(0.35), SocialScore: proto.Float64(0.5), PsychosocialScore: proto.Float64(0.4), CompositeScore: proto.Float64(0.4167)}},
	}}
	c, stdout, _ := newReturnsCLI(fake)
	if err := c.returnsRun(context.Background(), []string{"get", testCaseID}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"REINTEGRATION   version 12", "2026-02-03 to IRQ, 3 travelling", "composite 0.42"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}

	st, _ := status.New(codes.FailedPrecondition, "1 requirement(s) of the case's vulnerabilities are not met").WithDetails(
		&errdetails.ErrorInfo{Reason: "REQUIREMENT_UNMET"},
		&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "REQUIREMENT", Subject: "GUARDIAN_APPOINTED", Description: "required before departure"}}})
	fake = &fakeReturns{err: st.Err()}
	c, _, stderr := newReturnsCLI(fake)
	if err := c.returnsRun(context.Background(), []string{"depart", testCaseID, "--version", "2", "--date", "2026-02-03", "--to", "IRQ"}); err == nil {
		t.Fatal("a refused departure returned no error")
	}
	for _, want := range []string{"FailedPrecondition", "REQUIREMENT GUARDIAN_APPOINTED: required before departure", "reason: REQUIREMENT_UNMET"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
