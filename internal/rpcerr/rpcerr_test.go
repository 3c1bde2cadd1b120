package rpcerr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// want builds the google.rpc.Status a client receives.
func want(t *testing.T, c codes.Code, msg string, details ...protoadapt.MessageV1) *spb.Status {
	t.Helper()
	st := &spb.Status{Code: int32(c), Message: msg}
	for _, d := range details {
		a, err := anypb.New(protoadapt.MessageV2Of(d))
		if err != nil {
			t.Fatal(err)
		}
		st.Details = append(st.Details, a)
	}
	return st
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want *spb.Status
	}{
		{
			name: "with details",
			err:  WithDetails(codes.NotFound, "case not found", &errdetails.ErrorInfo{Reason: "GONE"}),
			want: want(t, codes.NotFound, "case not found", &errdetails.ErrorInfo{Reason: "GONE"}),
		},
		{
			name: "without details",
			err:  WithDetails(codes.Aborted, "try again"),
			want: want(t, codes.Aborted, "try again"),
		},
		{
			name: "stale version",
			err:  StaleVersion("passage.intake.v1", "case", "cases/42", 7),
			want: want(t, codes.FailedPrecondition, "the case changed since it was read: it is at version 7",
				&errdetails.ErrorInfo{Reason: "STALE_VERSION", Domain: "passage.intake.v1", Metadata: map[string]string{"current_version": "7"}},
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
					Type: "VERSION", Subject: "cases/42", Description: "current version is 7",
				}}}),
		},
		{
			name: "invalid transition",
			err:  InvalidTransition("passage.hasm.v1", "a request cannot move from CLOSED to APPROVED", map[string]string{"from": "CLOSED", "to": "APPROVED"}),
			want: want(t, codes.FailedPrecondition, "a request cannot move from CLOSED to APPROVED",
				&errdetails.ErrorInfo{Reason: "INVALID_TRANSITION", Domain: "passage.hasm.v1", Metadata: map[string]string{"from": "CLOSED", "to": "APPROVED"}},
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
					Type: "STATUS", Subject: "status", Description: "a request cannot move from CLOSED to APPROVED",
				}}}),
		},
		{
			name: "failed precondition with several violations and no metadata",
			err: FailedPrecondition("passage.returns.v1", "REQUIREMENT_UNMET", "2 requirement(s) are not met", nil,
				Violation("REQUIREMENT", "ESCORT", "required before departure"),
				Violation("REQUIREMENT", "MEDICAL", "required before departure")),
			want: want(t, codes.FailedPrecondition, "2 requirement(s) are not met",
				&errdetails.ErrorInfo{Reason: "REQUIREMENT_UNMET", Domain: "passage.returns.v1"},
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{
					{Type: "REQUIREMENT", Subject: "ESCORT", Description: "required before departure"},
					{Type: "REQUIREMENT", Subject: "MEDICAL", Description: "required before departure"},
				}}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, ok := status.FromError(tt.err)
			if !ok {
				t.Fatalf("%v is not a status error", tt.err)
			}
			if diff := cmp.Diff(tt.want, st.Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCarriedStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		wantMsg string
		want    error
	}{
		{
			name:    "stale version",
			err:     &StaleVersionError{Domain: "passage.returns.v1", What: "return", Subject: "returns/42", Current: 3},
			wantMsg: "the return changed since it was read: it is at version 3",
			want:    StaleVersion("passage.returns.v1", "return", "returns/42", 3),
		},
		{
			name:    "transition",
			err:     &TransitionError{Domain: "passage.returns.v1", Message: "depart is not allowed on a return in status PLANNED", Metadata: map[string]string{"status": "PLANNED", "step": "depart"}},
			wantMsg: "depart is not allowed on a return in status PLANNED",
			want:    InvalidTransition("passage.returns.v1", "depart is not allowed on a return in status PLANNED", map[string]string{"status": "PLANNED", "step": "depart"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
			st, ok := status.FromError(tt.err)
			if !ok {
				t.Fatalf("%v carries no status", tt.err)
			}
			if diff := cmp.Diff(status.Convert(tt.want).Proto(), st.Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}
