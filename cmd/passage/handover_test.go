package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// fakeHandover records the last request and answers with a hand-over built from it.
type fakeHandover struct {
	handoverv1.HandoverServiceClient
	got proto.Message
}

const testHandoverID = "7d4f2a1c-9e3b-4c5d-8a6f-1b2c3d4e5f60"

func (f *fakeHandover) handover(status handoverv1.HandoverStatus, version int64) *handoverv1.Handover {
	return &handoverv1.Handover{HandoverId: testHandoverID, CaseId: testCaseID, Programme: commonv1.Programme_PROGRAMME_AVRR,
		FromMission: "DEU", ToMission: "IRQ", Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		Purpose:    handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
		LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, ProfileVersion: 1, Status: status, Version: version}
}

func (f *fakeHandover) ProposeHandover(_ context.Context, req *handoverv1.ProposeHandoverRequest, _ ...grpc.CallOption) (*handoverv1.ProposeHandoverResponse, error) {
	f.got = req
	return &handoverv1.ProposeHandoverResponse{Handover: f.handover(handoverv1.HandoverStatus_HANDOVER_STATUS_PROPOSED, 1)}, nil
}

func (f *fakeHandover) DeclineHandover(_ context.Context, req *handoverv1.DeclineHandoverRequest, _ ...grpc.CallOption) (*handoverv1.DeclineHandoverResponse, error) {
	f.got = req
	h := f.handover(handoverv1.HandoverStatus_HANDOVER_STATUS_DECLINED, req.GetVersion()+1)
	h.DeclineReason = req.GetReason()
	return &handoverv1.DeclineHandoverResponse{Handover: h}, nil
}

func (f *fakeHandover) AcceptHandover(_ context.Context, req *handoverv1.AcceptHandoverRequest, _ ...grpc.CallOption) (*handoverv1.AcceptHandoverResponse, error) {
	f.got = req
	return &handoverv1.AcceptHandoverResponse{Handover: f.handover(handoverv1.HandoverStatus_HANDOVER_STATUS_ACCEPTED, req.GetVersion()+1)}, nil
}

func (f *fakeHandover) ListHandovers(_ context.Context, req *handoverv1.ListHandoversRequest, _ ...grpc.CallOption) (*handoverv1.ListHandoversResponse, error) {
	f.got = req
	return &handoverv1.ListHandoversResponse{Handovers: []*handoverv1.Handover{f.handover(handoverv1.HandoverStatus_HANDOVER_STATUS_PROPOSED, 1)}}, nil
}

func (f *fakeHandover) PublishHandoverProfile(_ context.Context, req *handoverv1.PublishHandoverProfileRequest, _ ...grpc.CallOption) (*handoverv1.PublishHandoverProfileResponse, error) {
	f.got = req
	return &handoverv1.PublishHandoverProfileResponse{Profile: &handoverv1.HandoverProfile{Programme: req.GetProgramme(), Version: 2, Fields: req.GetFields()}}, nil
}

func newHandoverCLI(f *fakeHandover) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(map[string]string{"PASSAGE_TOKEN": "tok"})
	return &client{cli: c,
		handover: func(clientOptions) (handoverv1.HandoverServiceClient, func(), error) { return f, func() {}, nil },
	}, stdout, stderr
}

func TestHandoverCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want proto.Message
		out  string // a line the command prints
	}{
		{[]string{"propose", testCaseID, "--programme", "avrr", "--to", "irq", "--part", "reception", "--part", "reintegration",
			"--purpose", "return_and_reintegration", "--legal-basis", "vital_interests", "--profile", "1"},
			&handoverv1.ProposeHandoverRequest{RequestId: testRequestID, CaseId: testCaseID, Programme: commonv1.Programme_PROGRAMME_AVRR,
				ToMission: "IRQ", Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION, handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION},
				Purpose:    handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
				LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, ProfileVersion: 1},
			"status        proposed (version 1)"},
		{[]string{"propose", testCaseID, "--programme", "vot", "--to", "MMR", "--part", "continuing_assistance",
			"--purpose", "continuing_assistance", "--consent", testCaseID, "--profile", "2"},
			&handoverv1.ProposeHandoverRequest{RequestId: testRequestID, CaseId: testCaseID, Programme: commonv1.Programme_PROGRAMME_VOT,
				ToMission: "MMR", Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE},
				Purpose: handoverv1.HandoverPurpose_HANDOVER_PURPOSE_CONTINUING_ASSISTANCE, ConsentId: testCaseID, ProfileVersion: 2},
			"handover      " + testHandoverID},
		{[]string{"accept", testHandoverID, "--version", "1"},
			&handoverv1.AcceptHandoverRequest{RequestId: testRequestID, HandoverId: testHandoverID, Version: 1},
			"status        accepted (version 2)"},
		{[]string{"decline", testHandoverID, "--version", "1", "--reason", "no_capacity"},
			&handoverv1.DeclineHandoverRequest{RequestId: testRequestID, HandoverId: testHandoverID, Version: 1,
				Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_NO_CAPACITY},
			"declined for  no capacity"},
		{[]string{"list", "--direction", "incoming", "--status", "proposed"},
			&handoverv1.ListHandoversRequest{Direction: handoverv1.HandoverDirection_HANDOVER_DIRECTION_INCOMING,
				Status: handoverv1.HandoverStatus_HANDOVER_STATUS_PROPOSED},
			testHandoverID + "  proposed  DEU   IRQ  avrr"},
		{[]string{"profile", "publish", "--programme", "avrr", "--field", "sex", "--field", "name"},
			&handoverv1.PublishHandoverProfileRequest{RequestId: testRequestID, Programme: commonv1.Programme_PROGRAMME_AVRR,
				Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_NAME}},
			"avrr       2        sex, name"},
	}
	for _, tt := range tests {
		f := &fakeHandover{}
		c, stdout, stderr := newHandoverCLI(f)
		if err := c.handoverRun(context.Background(), tt.args); err != nil {
			t.Errorf("%v: %v (stderr %s)", tt.args, err, stderr)
			continue
		}
		if diff := cmp.Diff(tt.want, f.got, protocmp.Transform()); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
		if !strings.Contains(stdout.String(), tt.out) {
			t.Errorf("%v printed\n%s\nwant a line with %q", tt.args, stdout, tt.out)
		}
	}
}

func TestHandoverCommandsRefuseBadArguments(t *testing.T) {
	t.Parallel()
	propose := []string{"propose", testCaseID, "--programme", "avrr", "--to", "IRQ", "--part", "reception", "--purpose", "return_and_reintegration", "--profile", "1"}
	tests := []struct {
		args []string
		want string
	}{
		{propose, "either --consent"},
		{append(append([]string{}, propose...), "--consent", testCaseID, "--legal-basis", "vital_interests"), "either --consent"},
		{[]string{"propose", testCaseID, "--programme", "avrr", "--to", "IRQ", "--part", "reception", "--purpose", "return_and_reintegration",
			"--legal-basis", "vital_interests"}, "--profile is required"},
		{[]string{"propose", testCaseID, "--programme", "avrr", "--to", "IRQ", "--part", "parking", "--purpose", "return_and_reintegration",
			"--legal-basis", "vital_interests", "--profile", "1"}, "--part"},
		{[]string{"accept", testHandoverID}, "--version is required"},
		{[]string{"decline", testHandoverID, "--version", "1", "--reason", "bored"}, "--reason"},
		{[]string{"profile", "delete"}, "profile publish"},
	}
	for _, tt := range tests {
		f := &fakeHandover{}
		c, _, _ := newHandoverCLI(f)
		err := c.handoverRun(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error with %q", tt.args, err, tt.want)
		}
		if f.got != nil {
			t.Errorf("%v: sent %v", tt.args, f.got)
		}
	}
}
