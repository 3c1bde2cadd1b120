package handoverpart_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/handoverpart"
)

// TestCheck: who may take a step of a part of a case registered in Germany, and how the others
// are refused, as a client of the service of domain "passage.test.v1" receives it.
func TestCheck(t *testing.T) {
	tests := []struct {
		name           string
		holder, acting string
		// reason is "" when the step is allowed; mission, the refusal's holder.
		reason, mission string
	}{
		{name: "own mission, part not handed over", holder: "", acting: "DEU"},
		{name: "receiver of the part", holder: "IRQ", acting: "IRQ"},
		{name: "own mission holding it back", holder: "DEU", acting: "DEU"},
		{name: "own mission, part handed over", holder: "IRQ", acting: "DEU", reason: "PART_HANDED_OVER", mission: "IRQ"},
		{name: "receiver of another part, part not handed over", holder: "", acting: "IRQ", reason: "PART_NOT_HELD", mission: "DEU"},
		{name: "receiver of another part, part handed over elsewhere", holder: "NER", acting: "IRQ", reason: "PART_NOT_HELD", mission: "NER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := handoverpart.Check(reception, "DEU", tt.holder, tt.acting)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var r *handoverpart.Refusal
			if !errors.As(err, &r) {
				t.Fatalf("Check = %v, want a *Refusal", err)
			}
			want := handoverpart.Refusal{Part: reception, Holder: tt.mission, HandedOver: tt.reason == "PART_HANDED_OVER"}
			if *r != want {
				t.Errorf("Check = %+v, want %+v", *r, want)
			}

			st := status.Convert(r.Status("passage.test.v1"))
			if st.Code() != codes.FailedPrecondition || st.Message() != r.Error() {
				t.Errorf("status %v %q, want FAILED_PRECONDITION %q", st.Code(), st.Message(), r.Error())
			}
			var got []any
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					got = append(got, d.GetReason(), d.GetDomain(), d.GetMetadata())
				case *errdetails.PreconditionFailure:
					for _, v := range d.GetViolations() {
						got = append(got, v.GetType(), v.GetSubject())
					}
				}
			}
			wantDetails := []any{tt.reason, "passage.test.v1", map[string]string{"part": "RECEPTION", "mission": tt.mission},
				tt.reason, "parts/RECEPTION"}
			if diff := cmp.Diff(wantDetails, got); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRefusalError: the message names the part and the holder's mission, codes only.
func TestRefusalError(t *testing.T) {
	for _, tt := range []struct {
		r    handoverpart.Refusal
		want string
	}{
		{handoverpart.Refusal{Part: closure, Holder: "IRQ", HandedOver: true}, "the case's CLOSURE part is handed over to mission IRQ"},
		{handoverpart.Refusal{Part: transfer, Holder: "DEU"}, "the case's TRANSFER part is held by mission DEU"},
	} {
		if got := tt.r.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
