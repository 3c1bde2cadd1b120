package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

const testFollowUpID = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"

// fakeFollowUp records the last request and answers with a fixed follow-up.
type fakeFollowUp struct {
	followupv1.FollowUpServiceClient
	got proto.Message
}

var sampleFollowUp = &followupv1.FollowUp{FollowUpId: testFollowUpID, Mission: "DEU", CaseId: testCaseID,
	Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, Occurrence: 1,
	DueDate: &date.Date{Year: 2026, Month: 3, Day: 3}, RemindDate: &date.Date{Year: 2026, Month: 2, Day: 17},
	State: followupv1.FollowUpState_FOLLOW_UP_STATE_OPEN, Overdue: true, Version: 2}

func (f *fakeFollowUp) ListFollowUps(_ context.Context, req *followupv1.ListFollowUpsRequest, _ ...grpc.CallOption) (*followupv1.ListFollowUpsResponse, error) {
	f.got = req
	return &followupv1.ListFollowUpsResponse{FollowUps: []*followupv1.FollowUp{sampleFollowUp}}, nil
}

func (f *fakeFollowUp) GetFollowUp(_ context.Context, req *followupv1.GetFollowUpRequest, _ ...grpc.CallOption) (*followupv1.GetFollowUpResponse, error) {
	f.got = req
	return &followupv1.GetFollowUpResponse{FollowUp: sampleFollowUp}, nil
}

func (f *fakeFollowUp) CloseFollowUp(_ context.Context, req *followupv1.CloseFollowUpRequest, _ ...grpc.CallOption) (*followupv1.CloseFollowUpResponse, error) {
	f.got = req
	return &followupv1.CloseFollowUpResponse{FollowUp: sampleFollowUp}, nil
}

func (f *fakeFollowUp) AssignFollowUp(_ context.Context, req *followupv1.AssignFollowUpRequest, _ ...grpc.CallOption) (*followupv1.AssignFollowUpResponse, error) {
	f.got = req
	return &followupv1.AssignFollowUpResponse{FollowUp: sampleFollowUp}, nil
}

func (f *fakeFollowUp) GetSchedule(_ context.Context, req *followupv1.GetScheduleRequest, _ ...grpc.CallOption) (*followupv1.GetScheduleResponse, error) {
	f.got = req
	return &followupv1.GetScheduleResponse{Schedule: &followupv1.Schedule{Mission: "DEU", Version: 1, Entries: []*followupv1.ScheduleEntry{
		{Programme: commonv1.Programme_PROGRAMME_HASM, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, Occurrence: 1, DueAfterDays: 14, RemindDaysBefore: 3},
	}}}, nil
}

func (f *fakeFollowUp) SetSchedule(_ context.Context, req *followupv1.SetScheduleRequest, _ ...grpc.CallOption) (*followupv1.SetScheduleResponse, error) {
	f.got = req
	return &followupv1.SetScheduleResponse{Schedule: &followupv1.Schedule{Mission: "DEU", Version: 2}}, nil
}

func newFollowUpCLI(f *fakeFollowUp) (*client, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"PASSAGE_TOKEN": "tok"}
	return &client{
		cli: cli{getenv: func(k string) string { return env[k] }, stdout: &stdout, stderr: &stderr,
			now: func() time.Time { return testNow }, newRequestID: func() string { return testRequestID }},
		followup: func(clientOptions) (followupv1.FollowUpServiceClient, func(), error) { return f, func() {}, nil },
	}, &stdout, &stderr
}

func TestFollowUpCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want proto.Message
	}{
		{[]string{"list"}, &followupv1.ListFollowUpsRequest{}},
		{[]string{"list", "--scope", "staff", "--staff", "staff-amira", "--state", "overdue", "--programme", "avrr",
			"--case", testCaseID, "--due-before", "2026-04-01", "--all"},
			&followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_STAFF, StaffSubject: "staff-amira",
				State: followupv1.StateFilter_STATE_FILTER_OVERDUE, Programme: commonv1.Programme_PROGRAMME_AVRR, CaseId: testCaseID,
				DueBefore: &date.Date{Year: 2026, Month: 4, Day: 1}, PageSize: 100}},
		{[]string{"get", testFollowUpID}, &followupv1.GetFollowUpRequest{FollowUpId: testFollowUpID}},
		{[]string{"close", testFollowUpID, "--version", "2", "--done"},
			&followupv1.CloseFollowUpRequest{RequestId: testRequestID, FollowUpId: testFollowUpID, Version: 2, Outcome: followupv1.Outcome_OUTCOME_DONE}},
		{[]string{"close", testFollowUpID, "--version", "2", "--not-needed", "person_unreachable"},
			&followupv1.CloseFollowUpRequest{RequestId: testRequestID, FollowUpId: testFollowUpID, Version: 2,
				Outcome: followupv1.Outcome_OUTCOME_NOT_NEEDED, NotNeededReason: followupv1.NotNeededReason_NOT_NEEDED_REASON_PERSON_UNREACHABLE}},
		{[]string{"assign", testFollowUpID, "--version", "2", "--to", "staff-amira"},
			&followupv1.AssignFollowUpRequest{RequestId: testRequestID, FollowUpId: testFollowUpID, Version: 2, Assignee: "staff-amira"}},
		{[]string{"schedule"}, &followupv1.GetScheduleRequest{}},
		{[]string{"schedule", "get"}, &followupv1.GetScheduleRequest{}},
		{[]string{"schedule", "set", "--version", "1", "--override", "hasm,arrival_confirmation,1,0,10,2",
			"--override", "avrr,monitoring_visit,3,13,0,21"},
			&followupv1.SetScheduleRequest{RequestId: testRequestID, Version: 1, Overrides: []*followupv1.ScheduleEntry{
				{Programme: commonv1.Programme_PROGRAMME_HASM, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, Occurrence: 1, DueAfterDays: 10, RemindDaysBefore: 2},
				{Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, Occurrence: 3, DueAfterMonths: 13, RemindDaysBefore: 21},
			}}},
		{[]string{"schedule", "set", "--version", "2"}, &followupv1.SetScheduleRequest{RequestId: testRequestID, Version: 2}},
	}
	for _, tt := range tests {
		f := &fakeFollowUp{}
		c, _, _ := newFollowUpCLI(f)
		if err := c.followupRun(context.Background(), tt.args); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, f.got, protocmp.Transform()); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestFollowUpCommandsRefuseBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"close", testFollowUpID, "--done"}, "--version is required"},
		{[]string{"close", testFollowUpID, "--version", "1"}, "one of --done and --not-needed"},
		{[]string{"close", testFollowUpID, "--version", "1", "--done", "--not-needed", "not_applicable"}, "one of --done and --not-needed"},
		{[]string{"close", testFollowUpID, "--version", "1", "--not-needed", "case_closed"}, "--not-needed must be one of"},
		{[]string{"assign", testFollowUpID, "--version", "1"}, "--to is required"},
		{[]string{"list", "--state", "late"}, "--state must be one of"},
		{[]string{"list", "--due-before", "03/03/2026"}, "--due-before"},
		{[]string{"schedule", "set", "--version", "1", "--override", "avrr,monitoring_visit,1"}, "--override 1: want"},
		{[]string{"schedule", "set", "--version", "1", "--override", "avrr,monitoring_visit,1,-3,0,0"}, "not negative"},
		{[]string{"schedule", "set", "--override", "avrr,monitoring_visit,1,3,0,0"}, "--version is required"},
		{[]string{"snooze"}, `followup: unknown command "snooze"`},
	}
	for _, tt := range tests {
		f := &fakeFollowUp{}
		c, _, _ := newFollowUpCLI(f)
		err := c.followupRun(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.want)
		}
		if f.got != nil {
			t.Errorf("%v: called the server", tt.args)
		}
	}
}

func TestFollowUpOutput(t *testing.T) {
	t.Parallel()
	f := &fakeFollowUp{}
	c, stdout, stderr := newFollowUpCLI(f)
	if err := c.followupRun(context.Background(), []string{"list"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FOLLOW-UP", testFollowUpID, "2026-03-03", "monitoring_visit 1", "overdue", "(none)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("list output lacks %q:\n%s", want, stdout)
		}
	}
	stdout.Reset()
	if err := c.followupRun(context.Background(), []string{"close", testFollowUpID, "--version", "2", "--done"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "request id "+testRequestID) || !strings.Contains(stdout.String(), "OVERDUE") {
		t.Errorf("close: stdout %q stderr %q", stdout, stderr)
	}
	stdout.Reset()
	if err := c.followupRun(context.Background(), []string{"schedule"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "schedule of DEU, version 1") || !strings.Contains(stdout.String(), "0 months 14 days") {
		t.Errorf("schedule output:\n%s", stdout)
	}
}
