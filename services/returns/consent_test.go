package returns_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// TestHouseholdMemberOwnConsent: the principal's ASSISTANCE consent speaks for the household,
// but an adult member who refuses assistance on their own record does not travel with IOM's
// assistance: a departure naming them is refused (FAILED_PRECONDITION naming ASSISTANCE) and
// writes nothing; the others still leave; and once the member consents, they may be assisted.
func TestHouseholdMemberOwnConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.register(t, registration(karim(), relative("Layla", commonv1.Sex_SEX_FEMALE, 1990), relative("Omar", commonv1.Sex_SEX_MALE, 2018)))
	var layla, omar string
	for _, m := range r.GetMembers() {
		switch {
		case m.GetPrincipal():
		case m.GetAgeBand() == commonv1.AgeBand_AGE_BAND_0_8:
			omar = m.GetSubjectId()
		default:
			layla = m.GetSubjectId()
		}
	}
	c, err := b.intake.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: r.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	refused, err := b.intake.RecordConsent(b.worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: c.GetCase().GetVersion(), Consent: &commonv1.Consent{
			SubjectId: layla, Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: false, Date: day(2026, 1, 11)}})
	if err != nil {
		t.Fatalf("RecordConsent (refused): %v", err)
	}
	for _, m := range refused.GetCase().GetHouseholdMembers() {
		if want := m.GetSubjectId() != layla; m.GetAssistanceAllowed() != want {
			t.Errorf("member %s: assistance_allowed = %v, want %v", m.GetSubjectId(), m.GetAssistanceAllowed(), want)
		}
	}
	r = b.eligible(t, b.await(t, r.GetCaseId(), func(*returnsv1.Return) bool { return true }))

	before := b.stored(t)
	_, err = b.client.RecordDeparture(b.worker, departure(r)) // everyone, Layla included
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition || reason(st) != "CONSENT_MISSING" || !slices.Contains(preconditionSubjects(st), "ASSISTANCE") {
		t.Fatalf("departure with a member who refused assistance = %v, want FAILED_PRECONDITION naming ASSISTANCE", err)
	}
	if after := b.stored(t); !maps.Equal(before, after) {
		t.Errorf("a refused departure wrote: %v, then %v", before, after)
	}

	// Layla changes her mind before the others leave: her own consent now holds.
	c, err = b.intake.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: r.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.intake.RecordConsent(b.worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(),
		CaseId: r.GetCaseId(), Version: c.GetCase().GetVersion(), Consent: &commonv1.Consent{
			SubjectId: layla, Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 1, 20)}}); err != nil {
		t.Fatalf("RecordConsent (granted): %v", err)
	}
	got, err := b.client.GetReturn(b.worker, &returnsv1.GetReturnRequest{CaseId: r.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	req := departure(got.GetReturn())
	req.TravellingSubjectIds = []string{got.GetReturn().GetSubjectId(), omar, layla}
	if _, err := b.client.RecordDeparture(b.worker, req); err != nil {
		t.Fatalf("departure once every traveller may be assisted: %v", err)
	}
}
