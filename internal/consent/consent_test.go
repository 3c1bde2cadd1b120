package consent_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/consent"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	assistance = commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE
	statistics = commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS
	sharing    = commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING
)

var withdrawn = &commonv1.ConsentWithdrawal{Date: day(2026, 3, 14), RecordedBy: "staff-1"}

func TestDerive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		history []*commonv1.Consent
		want    []bool
	}{
		{"granted", []*commonv1.Consent{{SubjectId: "a", Purpose: assistance, Granted: true}}, []bool{true}},
		{"refused", []*commonv1.Consent{{SubjectId: "a", Purpose: assistance}}, []bool{false}},
		{"withdrawn", []*commonv1.Consent{{SubjectId: "a", Purpose: assistance, Granted: true, Withdrawal: withdrawn}}, []bool{false}},
		{"a legal basis without consent", []*commonv1.Consent{{SubjectId: "a", Purpose: assistance,
			LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_LEGAL_OBLIGATION}}, []bool{true}},
		{"consent as the basis, refused", []*commonv1.Consent{{SubjectId: "a", Purpose: assistance,
			LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_CONSENT}}, []bool{false}},
		{"granted again after a withdrawal", []*commonv1.Consent{
			{SubjectId: "a", Purpose: assistance, Granted: true, Withdrawal: withdrawn},
			{SubjectId: "a", Purpose: assistance, Granted: true},
		}, []bool{false, true}},
		{"a later refusal supersedes", []*commonv1.Consent{
			{SubjectId: "a", Purpose: statistics, Granted: true},
			{SubjectId: "a", Purpose: statistics},
		}, []bool{false, false}},
		{"each person, purpose and partner on its own", []*commonv1.Consent{
			{SubjectId: "a", Purpose: assistance, Granted: true},
			{SubjectId: "b", Purpose: assistance},
			{SubjectId: "a", Purpose: statistics, Granted: true},
			{SubjectId: "a", Purpose: sharing, Granted: true, Partner: "UNHCR"},
			{SubjectId: "a", Purpose: sharing, Partner: "UNICEF"},
			{SubjectId: "a", Purpose: sharing, Granted: true, PartnerCategory: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO},
		}, []bool{true, false, true, true, false, true}},
	}
	for _, tt := range tests {
		consent.Derive(tt.history)
		var got []bool
		for _, c := range tt.history {
			got = append(got, c.GetInForce())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: in_force (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestAllowedAndMark(t *testing.T) {
	t.Parallel()
	c := &intakev1.Case{
		SubjectId:        "p",
		Principal:        &intakev1.CaseMember{SubjectId: "p"},
		HouseholdMembers: []*intakev1.CaseMember{{SubjectId: "h"}},
		Consents: []*commonv1.Consent{
			{SubjectId: "p", Purpose: assistance, Granted: true},
			{SubjectId: "p", Purpose: statistics, Granted: true, Withdrawal: withdrawn},
			{SubjectId: "h", Purpose: statistics, Granted: true},
		},
	}
	consent.Derive(c.Consents)
	consent.Mark(c)
	if !consent.AssistanceAllowed(c) {
		t.Error("the principal's assistance is not allowed")
	}
	if c.GetPrincipal().GetInStatistics() || !c.GetHouseholdMembers()[0].GetInStatistics() {
		t.Errorf("in_statistics: principal %v (withdrawn), household %v (granted)",
			c.GetPrincipal().GetInStatistics(), c.GetHouseholdMembers()[0].GetInStatistics())
	}
	if consent.Allowed(c.Consents, "h", assistance) {
		t.Error("the household member's assistance is allowed without a record")
	}
	// Without a record of their own, a member follows the principal, who signs for the
	// household; with one, their own record decides.
	if !c.GetHouseholdMembers()[0].GetAssistanceAllowed() || !c.GetPrincipal().GetAssistanceAllowed() {
		t.Errorf("assistance_allowed: principal %v, member without a record %v; want both true",
			c.GetPrincipal().GetAssistanceAllowed(), c.GetHouseholdMembers()[0].GetAssistanceAllowed())
	}
	c.Consents = append(c.Consents, &commonv1.Consent{SubjectId: "h", Purpose: assistance, Granted: false})
	consent.Derive(c.Consents)
	consent.Mark(c)
	if c.GetHouseholdMembers()[0].GetAssistanceAllowed() || !c.GetPrincipal().GetAssistanceAllowed() {
		t.Errorf("after the member refused: principal %v, member %v; want true, false",
			c.GetPrincipal().GetAssistanceAllowed(), c.GetHouseholdMembers()[0].GetAssistanceAllowed())
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	err := consent.StatusOf("passage.test.v1", fmt.Errorf("step: %w", &consent.MissingError{Purpose: assistance}))
	st, _ := status.FromError(err)
	if st.Code() != codes.FailedPrecondition {
		t.Fatalf("code %v, want FAILED_PRECONDITION", st.Code())
	}
	var reason, violation string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason() + " " + d.GetMetadata()["purpose"]
		case *errdetails.PreconditionFailure:
			violation = d.GetViolations()[0].GetType() + " " + d.GetViolations()[0].GetSubject()
		}
	}
	if reason != "CONSENT_MISSING ASSISTANCE" || violation != "CONSENT ASSISTANCE" {
		t.Errorf("details %q, %q", reason, violation)
	}
	if got := status.Code(consent.StatusOf("passage.test.v1", consent.ErrNotCaughtUp)); got != codes.Unavailable {
		t.Errorf("not caught up: %v, want UNAVAILABLE", got)
	}
	if consent.StatusOf("passage.test.v1", errors.New("other")) != nil {
		t.Error("another error was mapped")
	}
}
