package testserver_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/passage-cm/passage/internal/testserver"
)

func TestWantCode(t *testing.T) {
	t.Parallel()
	err := status.Error(codes.NotFound, "no such case")
	if got := testserver.WantCode(t, err, codes.NotFound); got.Message() != "no such case" {
		t.Errorf("WantCode returned the status %v, want the error's own", got)
	}
}

func TestFieldViolations(t *testing.T) {
	t.Parallel()
	badRequest := func(fields ...string) protoadapt.MessageV1 {
		br := &errdetails.BadRequest{}
		for _, f := range fields {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f, Description: "invalid"})
		}
		return br
	}
	tests := []struct {
		name    string
		details []protoadapt.MessageV1
		want    []string
	}{
		{"no details", nil, nil},
		{"one BadRequest", []protoadapt.MessageV1{badRequest("principal.given_name", "mission")}, []string{"principal.given_name", "mission"}},
		{"other details are passed over", []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: "STALE_VERSION"}, badRequest("version")}, []string{"version"}},
		{"every BadRequest, in order", []protoadapt.MessageV1{badRequest("a"), badRequest("b", "c")}, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := status.New(codes.InvalidArgument, "invalid").WithDetails(tt.details...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, testserver.FieldViolations(st)); diff != "" {
				t.Errorf("FieldViolations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreconditionViolations(t *testing.T) {
	t.Parallel()
	st, err := status.New(codes.FailedPrecondition, "no consent").WithDetails(
		&errdetails.ErrorInfo{Reason: "CONSENT_MISSING"},
		&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{
			{Type: "CONSENT", Subject: "ASSISTANCE"}, {Type: "VERSION", Subject: "cases/1"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"CONSENT ASSISTANCE", "VERSION cases/1"}, testserver.PreconditionViolations(st)); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if got := testserver.PreconditionViolations(status.New(codes.NotFound, "x")); got != nil {
		t.Errorf("no details: got %q", got)
	}
}
