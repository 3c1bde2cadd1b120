package rpcerr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
)

// badRequestOf returns the BadRequest detail of st, or nil.
func badRequestOf(st *status.Status) *errdetails.BadRequest {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br
		}
	}
	return nil
}

func TestInvalidArgument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		violations  []*errdetails.BadRequest_FieldViolation
		wantMessage string
		wantDetail  *errdetails.BadRequest
	}{
		{
			name:        "no violations",
			wantMessage: "invalid request",
		},
		{
			name:        "one",
			violations:  []*errdetails.BadRequest_FieldViolation{FieldViolation("principal.date_of_birth", "must not be in the future")},
			wantMessage: "invalid request: principal.date_of_birth: must not be in the future",
			wantDetail: &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "principal.date_of_birth", Description: "must not be in the future"},
			}},
		},
		{
			name: "message names the first; the detail has all",
			violations: []*errdetails.BadRequest_FieldViolation{
				FieldViolation("consents", "one consent must grant CONSENT_PURPOSE_ASSISTANCE"),
				FieldViolation("host_country", "not a country"),
			},
			wantMessage: "invalid request: consents: one consent must grant CONSENT_PURPOSE_ASSISTANCE",
			wantDetail: &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "consents", Description: "one consent must grant CONSENT_PURPOSE_ASSISTANCE"},
				{Field: "host_country", Description: "not a country"},
			}},
		},
		{
			name:        "message-level rule without a field",
			violations:  []*errdetails.BadRequest_FieldViolation{FieldViolation("", "update_mask names no field")},
			wantMessage: "invalid request: update_mask names no field",
			wantDetail: &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Description: "update_mask names no field"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := status.Convert(InvalidArgument(tt.violations...))
			if st.Code() != codes.InvalidArgument || st.Message() != tt.wantMessage {
				t.Errorf("status = %v %q, want InvalidArgument %q", st.Code(), st.Message(), tt.wantMessage)
			}
			if diff := cmp.Diff(tt.wantDetail, badRequestOf(st), protocmp.Transform()); diff != "" {
				t.Errorf("BadRequest detail (-want +got):\n%s", diff)
			}
		})
	}
}

func TestViolationsAndParseID(t *testing.T) {
	t.Parallel()
	var v Violations
	if err := v.Err(); err != nil {
		t.Fatalf("no violation: %v, want nil", err)
	}
	v.Add("a", "must be set")
	v.Add("b", "must be later than a")
	st := status.Convert(v.Err())
	want := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: "a", Description: "must be set"}, {Field: "b", Description: "must be later than a"}}}
	if st.Code() != codes.InvalidArgument || !cmp.Equal(badRequestOf(st), want, protocmp.Transform()) {
		t.Errorf("Err = %v %v, want INVALID_ARGUMENT with both fields", st.Code(), badRequestOf(st))
	}

	if _, err := ParseID("case_id", "0b8e7c1e-5b6a-4d5f-9f0e-2d3c4b5a6978"); err != nil {
		t.Errorf("ParseID of a UUID: %v", err)
	}
	_, err := ParseID("case_id", "Amina's case")
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || st.Message() != "invalid request: case_id: must be a valid UUID" {
		t.Errorf("ParseID of a name: %v, want INVALID_ARGUMENT on case_id that does not quote the value", err)
	}
}
