package middleware

import (
	"context"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
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
)

// validRegisterCase returns a request that passes every rule; tests break one part of it.
func validRegisterCase() *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId:   "0b5c7a52-8a2f-4c1e-9d47-3f1f0f6e2a11",
		Mission:     "NER",
		Programme:   commonv1.Programme_PROGRAMME_AVRR,
		Principal:   &commonv1.Person{GivenName: "Amina"},
		HostCountry: "NER",
		Consents: []*commonv1.Consent{{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
			Granted: true,
			Date:    &date.Date{Year: 2025, Month: 1, Day: 2},
		}},
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	household := validRegisterCase()
	household.HouseholdMembers = []*commonv1.Person{{GivenName: "Sadia"}, {GivenName: ""}}

	tests := []struct {
		name        string
		req         proto.Message
		wantCalled  bool
		wantCode    codes.Code
		wantMessage string
		wantDetail  *errdetails.BadRequest
	}{
		{
			name:       "valid request reaches the handler",
			req:        &intakev1.GetCaseRequest{CaseId: "0b5c7a52-8a2f-4c1e-9d47-3f1f0f6e2a11"},
			wantCalled: true,
			wantCode:   codes.OK,
		},
		{
			name:        "bad case id",
			req:         &intakev1.GetCaseRequest{CaseId: "Amina Haddad"},
			wantCode:    codes.InvalidArgument,
			wantMessage: "invalid request: case_id: must be a valid UUID",
			wantDetail: &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "case_id", Description: "must be a valid UUID"},
			}},
		},
		{
			name:        "nested repeated field",
			req:         household,
			wantCode:    codes.InvalidArgument,
			wantMessage: "invalid request: household_members[1].given_name: must be at least 1 characters",
			wantDetail: &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "household_members[1].given_name", Description: "must be at least 1 characters"},
				{Field: "household_members[1].given_name", Description: "does not match regex pattern `\\S`"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			called := false
			_, err := b.call(context.Background(), "/passage.intake.v1.IntakeService/Any", tt.req, func(context.Context, any) (any, error) {
				called = true
				return nil, nil
			})

			if called != tt.wantCalled {
				t.Errorf("handler called = %v, want %v", called, tt.wantCalled)
			}
			st := status.Convert(err)
			if diff := cmp.Diff(clientStatus{tt.wantCode, tt.wantMessage}, clientStatus{st.Code(), st.Message()}); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDetail, badRequest(st), protocmp.Transform()); diff != "" {
				t.Errorf("BadRequest detail (-want +got):\n%s", diff)
			}
			if strings.Contains(st.String(), "Amina") || strings.Contains(st.String(), "Sadia") {
				t.Errorf("status echoes a value: %v", st)
			}
		})
	}
}

func TestValidationStream(t *testing.T) {
	t.Parallel()
	b := setup(t, ChainConfig{})
	ss := &fakeServerStream{recv: []func(any){
		func(m any) {
			proto.Merge(m.(proto.Message), &intakev1.GetCaseRequest{CaseId: "0b5c7a52-8a2f-4c1e-9d47-3f1f0f6e2a11"})
		},
		func(m any) { proto.Merge(m.(proto.Message), &intakev1.GetCaseRequest{CaseId: "nope"}) },
	}}
	var received int
	err := b.stream(context.Background(), "/test.Svc/Watch", ss, func(_ any, ss grpc.ServerStream) error {
		for {
			if err := ss.RecvMsg(&intakev1.GetCaseRequest{}); err != nil {
				return err
			}
			received++
		}
	})
	if received != 1 {
		t.Errorf("handler received %d valid messages, want 1", received)
	}
	st := status.Convert(err)
	if diff := cmp.Diff(clientStatus{codes.InvalidArgument, "invalid request: case_id: must be a valid UUID"}, clientStatus{st.Code(), st.Message()}); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestFieldPath(t *testing.T) {
	t.Parallel()
	el := func(name string, set func(*validate.FieldPathElement)) *validate.FieldPathElement {
		e := &validate.FieldPathElement{}
		e.SetFieldName(name)
		if set != nil {
			set(e)
		}
		return e
	}
	path := &validate.FieldPath{}
	path.SetElements([]*validate.FieldPathElement{
		el("household_members", func(e *validate.FieldPathElement) { e.SetIndex(1) }),
		el("labels", func(e *validate.FieldPathElement) { e.SetStringKey("Amina Haddad") }),
		el("value", nil),
	})

	if diff := cmp.Diff(`household_members[1].labels["*"].value`, fieldPath(path)); diff != "" {
		t.Errorf("fieldPath (-want +got):\n%s", diff)
	}
	// The validator's own error is left as it was.
	if got := path.GetElements()[1].GetStringKey(); got != "Amina Haddad" {
		t.Errorf("fieldPath changed its argument: key = %q", got)
	}
}

// badRequest returns st's BadRequest detail, or nil.
func badRequest(st *status.Status) *errdetails.BadRequest {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br
		}
	}
	return nil
}
