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

	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// fakeHASM records the last request and answers with err.
type fakeHASM struct {
	hasmv1.StrandedMigrantServiceClient
	got proto.Message
	err error
}

func (f *fakeHASM) answer(req proto.Message) error {
	f.got = req
	return f.err
}

func (f *fakeHASM) RequestAssistance(_ context.Context, req *hasmv1.RequestAssistanceRequest, _ ...grpc.CallOption) (*hasmv1.RequestAssistanceResponse, error) {
	return &hasmv1.RequestAssistanceResponse{Request: &hasmv1.AssistanceRequest{CaseId: req.GetCaseId(), Status: hasmv1.RequestStatus_REQUEST_STATUS_REQUESTED,
		EstimatedCost: req.GetEstimatedCost(), Currency: req.GetCurrency(), FundCode: req.GetFundCode(), FundYear: req.GetFundYear(), Version: 1}}, f.answer(req)
}

func (f *fakeHASM) DecideRequest(_ context.Context, req *hasmv1.DecideRequestRequest, _ ...grpc.CallOption) (*hasmv1.DecideRequestResponse, error) {
	return &hasmv1.DecideRequestResponse{}, f.answer(req)
}

func (f *fakeHASM) GetRequest(_ context.Context, req *hasmv1.GetRequestRequest, _ ...grpc.CallOption) (*hasmv1.GetRequestResponse, error) {
	return &hasmv1.GetRequestResponse{Request: &hasmv1.AssistanceRequest{CaseId: req.GetCaseId(), Mission: req.GetMission(), Version: 1}}, f.answer(req)
}

func (f *fakeHASM) RecordDeparture(_ context.Context, req *hasmv1.RecordDepartureRequest, _ ...grpc.CallOption) (*hasmv1.RecordDepartureResponse, error) {
	return &hasmv1.RecordDepartureResponse{}, f.answer(req)
}

func (f *fakeHASM) GetFund(_ context.Context, req *hasmv1.GetFundRequest, _ ...grpc.CallOption) (*hasmv1.GetFundResponse, error) {
	return &hasmv1.GetFundResponse{Fund: &hasmv1.Fund{Code: req.GetCode(), Year: req.GetYear(), Currency: "USD", Budget: 100_000, Committed: 85_000, Remaining: 15_000, Version: 3}}, f.answer(req)
}

func newHASMCLI(f *fakeHASM) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(map[string]string{"PASSAGE_TOKEN": "tok"})
	return &client{cli: c,
		hasm: func(clientOptions) (hasmv1.StrandedMigrantServiceClient, func(), error) { return f, func() {}, nil },
	}, stdout, stderr
}

func TestHASMCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want proto.Message
	}{
		{[]string{"request", testCaseID, "--stranded", "abandoned_by_smuggler", "--no-other", "no_avrr_programme", "--cost", "85000", "--currency", "usd", "--fund", "hasm-global"},
			&hasmv1.RequestAssistanceRequest{RequestId: testRequestID, CaseId: testCaseID,
				StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
				NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
				EstimatedCost:           85000, Currency: "USD", FundCode: "HASM-GLOBAL", FundYear: 2026}},
		{[]string{"decide", testCaseID, "--version", "1", "--approve"},
			&hasmv1.DecideRequestRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 1, Decision: hasmv1.Decision_DECISION_APPROVE}},
		{[]string{"decide", testCaseID, "--version", "2", "--reject", "insufficient_funds", "--request-id", "00000000-0000-4000-8000-000000000009"},
			&hasmv1.DecideRequestRequest{RequestId: "00000000-0000-4000-8000-000000000009", CaseId: testCaseID, Version: 2,
				Decision: hasmv1.Decision_DECISION_REJECT, RejectionReason: hasmv1.RejectionReason_REJECTION_REASON_INSUFFICIENT_FUNDS}},
		{[]string{"depart", testCaseID, "--version", "2", "--date", "2026-03-10", "--to", "eth", "--traveller", testCaseID},
			&hasmv1.RecordDepartureRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 2,
				DepartureDate: &date.Date{Year: 2026, Month: 3, Day: 10}, ReturnCountry: "ETH", TravellingSubjectIds: []string{testCaseID}}},
		{[]string{"fund", "get", "--code", "hasm-global", "--year", "2026"}, &hasmv1.GetFundRequest{Code: "HASM-GLOBAL", Year: 2026}},
		// HQ names the mission whose request of the case it reads or decides: a receiving
		// mission's, beside the case's own.
		{[]string{"decide", testCaseID, "--version", "1", "--approve", "--mission", "ner"},
			&hasmv1.DecideRequestRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 1, Decision: hasmv1.Decision_DECISION_APPROVE, Mission: "NER"}},
		{[]string{"get", testCaseID, "--mission", "NER"}, &hasmv1.GetRequestRequest{CaseId: testCaseID, Mission: "NER"}},
	}
	for _, tt := range tests {
		f := &fakeHASM{}
		c, _, _ := newHASMCLI(f)
		if err := c.hasmRun(context.Background(), tt.args); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, f.got, protocmp.Transform()); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestHASMCommandsRefuseBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"decide", testCaseID, "--version", "1"}, "either --approve or --reject"},
		{[]string{"decide", testCaseID, "--version", "1", "--approve", "--reject", "other"}, "either --approve or --reject"},
		{[]string{"decide", testCaseID, "--approve"}, "--version is required"},
		{[]string{"request", testCaseID, "--stranded", "bored"}, "--stranded must be one of"},
		{[]string{"depart", testCaseID, "--version", "1", "--date", "10/03/2026"}, "--date"},
		{[]string{"fund", "spend"}, "unknown hasm fund command"},
		{[]string{"fly"}, `hasm: unknown command "fly"`},
	}
	for _, tt := range tests {
		f := &fakeHASM{}
		c, _, _ := newHASMCLI(f)
		err := c.hasmRun(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.want)
		}
		if f.got != nil {
			t.Errorf("%v: called the server", tt.args)
		}
	}
}

func TestHASMPrintsRefusalAndFund(t *testing.T) {
	t.Parallel()
	st, _ := status.New(codes.FailedPrecondition, "fund HASM-YEM/2026 has 20000 USD remaining, less than the 30000 requested").
		WithDetails(&errdetails.ErrorInfo{Reason: "FUND_INSUFFICIENT", Metadata: map[string]string{"remaining": "20000"}})
	f := &fakeHASM{err: st.Err()}
	c, _, stderr := newHASMCLI(f)
	err := c.hasmRun(context.Background(), []string{"decide", testCaseID, "--version", "1", "--approve"})
	if err == nil || !strings.Contains(stderr.String(), "reason: FUND_INSUFFICIENT") || !strings.Contains(stderr.String(), "remaining: 20000") {
		t.Errorf("refusal: err %v, stderr:\n%s", err, stderr)
	}

	c, stdout, _ := newHASMCLI(&fakeHASM{})
	if err := c.hasmRun(context.Background(), []string{"fund", "get", "--code", "HASM-YEM"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HASM-YEM/2026", "1000.00 USD", "850.00 USD", "150.00 USD"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("fund output lacks %q:\n%s", want, stdout)
		}
	}
}
