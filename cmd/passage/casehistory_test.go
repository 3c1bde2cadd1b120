package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// fakeHistory answers GetCaseHistory with a page per page token.
type fakeHistory struct {
	intakev1.IntakeServiceClient
	requests []proto.Message
	pages    map[string]*intakev1.GetCaseHistoryResponse
}

func (f *fakeHistory) GetCaseHistory(_ context.Context, req *intakev1.GetCaseHistoryRequest, _ ...grpc.CallOption) (*intakev1.GetCaseHistoryResponse, error) {
	f.requests = append(f.requests, proto.Clone(req))
	return f.pages[req.GetPageToken()], nil
}

func historyCLI(fake *fakeHistory) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(tokenEnv)
	return &client{cli: c, intake: func(clientOptions) (intakev1.IntakeServiceClient, func(), error) {
		return fake, func() {}, nil
	}}, stdout, stderr
}

func TestCaseHistoryCommand(t *testing.T) {
	t.Parallel()
	at := timestamppb.New(time.Date(2025, 2, 3, 9, 30, 0, 0, time.UTC))
	first := &intakev1.CaseHistoryEntry{Time: at, Mission: "DEU", Service: "intake", EventType: "passage.intake.v1.CaseRegistered",
		Actor: "deu-registrar", Reason: "DUPLICATE_CHECK", Details: []*intakev1.HistoryDetail{{Field: "case.status", Value: "REGISTERED"}}}
	second := &intakev1.CaseHistoryEntry{Time: at, Mission: "DEU", Service: "followup", EventType: "passage.followup.v1.FollowUpCreated",
		Actor: "system", Details: []*intakev1.HistoryDetail{{Field: "follow_up.kind", Value: "ARRIVAL_CONFIRMATION"}}}
	fake := &fakeHistory{pages: map[string]*intakev1.GetCaseHistoryResponse{
		"":   {Entries: []*intakev1.CaseHistoryEntry{first}, NextPageToken: "p2"},
		"p2": {Entries: []*intakev1.CaseHistoryEntry{second}},
	}}

	c, stdout, stderr := historyCLI(fake)
	if err := c.caseRun(t.Context(), []string{"history", testCaseID, "--all"}); err != nil {
		t.Fatalf("history --all: %v", err)
	}
	want := []proto.Message{
		&intakev1.GetCaseHistoryRequest{CaseId: testCaseID, PageSize: 100},
		&intakev1.GetCaseHistoryRequest{CaseId: testCaseID, PageSize: 100, PageToken: "p2"},
	}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") ||
		!strings.Contains(lines[1], "2025-02-03 09:30:00") || !strings.Contains(lines[1], "CaseRegistered") ||
		!strings.Contains(lines[1], "deu-registrar") || !strings.HasSuffix(lines[1], "reason=DUPLICATE_CHECK case.status=REGISTERED") ||
		!strings.Contains(lines[2], "FollowUpCreated") || !strings.Contains(lines[2], "system") ||
		!strings.HasSuffix(lines[2], "follow_up.kind=ARRIVAL_CONFIRMATION") {
		t.Errorf("stdout: want a header and one line an entry:\n%s", stdout)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr)
	}

	// Without --all, one page and how to ask for the next.
	fake.requests = nil
	c, _, stderr = historyCLI(fake)
	if err := c.caseRun(t.Context(), []string{"history", testCaseID}); err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(fake.requests) != 1 || stderr.String() != "more entries: add --page-token p2 (or use --all)\n" {
		t.Errorf("one page: %d calls, stderr %q", len(fake.requests), stderr)
	}

	c, _, _ = historyCLI(fake)
	if err := c.caseRun(t.Context(), []string{"history"}); errString(err) != "case history takes one CASE_ID" {
		t.Errorf("history without a case: %v", err)
	}
}
