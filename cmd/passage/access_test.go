package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func fakeCall[Resp proto.Message](f *fakeIntake, req proto.Message) (Resp, error) {
	f.requests = append(f.requests, req)
	var zero Resp
	if f.err != nil {
		return zero, f.err
	}
	return f.resp.(Resp), nil
}

func (f *fakeIntake) AssignCase(_ context.Context, req *intakev1.AssignCaseRequest, _ ...grpc.CallOption) (*intakev1.AssignCaseResponse, error) {
	return fakeCall[*intakev1.AssignCaseResponse](f, req)
}

func (f *fakeIntake) UnassignCase(_ context.Context, req *intakev1.UnassignCaseRequest, _ ...grpc.CallOption) (*intakev1.UnassignCaseResponse, error) {
	return fakeCall[*intakev1.UnassignCaseResponse](f, req)
}

func (f *fakeIntake) BreakGlass(_ context.Context, req *intakev1.BreakGlassRequest, _ ...grpc.CallOption) (*intakev1.BreakGlassResponse, error) {
	return fakeCall[*intakev1.BreakGlassResponse](f, req)
}

func (f *fakeIntake) ListBreakGlassGrants(_ context.Context, req *intakev1.ListBreakGlassGrantsRequest, _ ...grpc.CallOption) (*intakev1.ListBreakGlassGrantsResponse, error) {
	return fakeCall[*intakev1.ListBreakGlassGrantsResponse](f, req)
}

func (f *fakeIntake) ReviewBreakGlass(_ context.Context, req *intakev1.ReviewBreakGlassRequest, _ ...grpc.CallOption) (*intakev1.ReviewBreakGlassResponse, error) {
	return fakeCall[*intakev1.ReviewBreakGlassResponse](f, req)
}

func TestAccessCommands(t *testing.T) {
	t.Parallel()
	const grantID = "0b9c3f3e-7c1a-4a57-9d0e-3f1f1b0f6a11"
	at := timestamppb.New(testNow)
	grant := &intakev1.BreakGlassGrant{GrantId: grantID, CaseId: testCaseID, Mission: "NER", Grantee: "sv-chief",
		CreateTime: at, ExpireTime: timestamppb.New(testNow.Add(20 * time.Minute))}
	reviewed := proto.Clone(grant).(*intakev1.BreakGlassGrant)
	reviewed.Review = &intakev1.BreakGlassReview{Reviewer: "sv-deputy", Finding: intakev1.BreakGlassFinding_BREAK_GLASS_FINDING_JUSTIFIED, ReviewTime: at}
	tests := []struct {
		name    string
		args    []string
		resp    proto.Message
		want    proto.Message
		wantOut string
	}{
		{"assign", []string{"assign", testCaseID, "cw-binta"},
			&intakev1.AssignCaseResponse{Assignment: &intakev1.CaseAssignment{CaseId: testCaseID, StaffId: "cw-binta", AssignedBy: "sv-chief", AssignTime: at}},
			&intakev1.AssignCaseRequest{RequestId: testRequestID, CaseId: testCaseID, StaffId: "cw-binta"}, "cw-binta works on case " + testCaseID},
		{"unassign", []string{"unassign", testCaseID, "cw-binta"},
			&intakev1.UnassignCaseResponse{CaseId: testCaseID, StaffId: "cw-binta"},
			&intakev1.UnassignCaseRequest{RequestId: testRequestID, CaseId: testCaseID, StaffId: "cw-binta"}, "cw-binta no longer works on case"},
		{"break-glass", []string{"break-glass", testCaseID, "--reason", "the caseworker is away and the family is at the border", "--for", "20m"},
			&intakev1.BreakGlassResponse{Grant: grant},
			&intakev1.BreakGlassRequest{RequestId: testRequestID, CaseId: testCaseID, Reason: "the caseworker is away and the family is at the border",
				Duration: durationpb.New(20 * time.Minute)}, "flagged for review"},
		{"grants", []string{"grants", "--unreviewed"},
			&intakev1.ListBreakGlassGrantsResponse{Grants: []*intakev1.BreakGlassGrant{grant}},
			&intakev1.ListBreakGlassGrantsRequest{UnreviewedOnly: true}, "awaiting review"},
		{"review", []string{"review", grantID, "--finding", "justified"},
			&intakev1.ReviewBreakGlassResponse{Grant: reviewed},
			&intakev1.ReviewBreakGlassRequest{RequestId: testRequestID, GrantId: grantID, Finding: intakev1.BreakGlassFinding_BREAK_GLASS_FINDING_JUSTIFIED},
			"JUSTIFIED by sv-deputy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeIntake{resp: tt.resp}
			c, stdout, _ := newTestCLI(fake, tokenEnv)
			if err := c.caseRun(t.Context(), tt.args); err != nil {
				t.Fatalf("%v: %v", tt.args, err)
			}
			if diff := cmp.Diff([]proto.Message{tt.want}, fake.requests, protocmp.Transform()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q in it", stdout, tt.wantOut)
			}
		})
	}
}

func TestAccessCommandErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"assign", testCaseID},
		{"unassign"},
		{"break-glass", testCaseID},
		{"grants", "extra"},
		{"review", "g"},
		{"review", "g", "--finding", "maybe"},
	} {
		fake := &fakeIntake{}
		c, _, _ := newTestCLI(fake, tokenEnv)
		if err := c.caseRun(t.Context(), args); err == nil {
			t.Errorf("%v: no error", args)
		}
		if len(fake.requests) != 0 {
			t.Errorf("%v: sent %d requests", args, len(fake.requests))
		}
	}
}
