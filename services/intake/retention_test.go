package intake_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/retention"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// TestRetention closes cases of two programmes, moves their closure back six years, and
// checks that the dry-run report counts, and the job erases, exactly the people whose every
// case closed longer ago than their programme's period: the AVRR household (5 years), not
// the victim of trafficking (10 years), not a person with an open case.
func TestRetention(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	svc := intake.New(b.env.Pool(t, intake.Role), b.env.Keys)

	closeCase := func(c *intakev1.Case) {
		t.Helper()
		if _, err := b.client.CloseCase(b.worker, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED}); err != nil {
			t.Fatalf("CloseCase: %v", err)
		}
	}
	avrr := b.register(t, registration(amina(), child("Tunde", 2019))).GetCase()
	closeCase(avrr)
	vot := registration(person(1))
	vot.Programme = commonv1.Programme_PROGRAMME_VOT
	votCase := b.register(t, vot).GetCase()
	closeCase(votCase)
	open := b.register(t, registration(person(2))).GetCase()

	// A person with one closed AVRR case and one open case (the same subject, through
	// OpenCase) is kept.
	both := b.register(t, registration(person(3))).GetCase()
	closeCase(both)
	if _, err := b.client.OpenCase(b.worker, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: both.GetCaseId(),
		Programme: commonv1.Programme_PROGRAMME_HASM, Consents: assistanceConsent()}); err != nil {
		t.Fatalf("OpenCase: %v", err)
	}

	if n := b.env.QueryInt(t, `SELECT count(*) FROM intake."case" WHERE status = 'CLOSED' AND closed_at IS NOT NULL`); n != 3 {
		t.Fatalf("closed cases with closed_at = %d, want 3", n)
	}
	b.env.QueryInt(t, `WITH u AS (UPDATE intake."case" SET closed_at = closed_at - interval '6 years' WHERE status = 'CLOSED' RETURNING 1) SELECT count(*) FROM u`)

	now := time.Now()
	report, err := retention.Report(ctx, ownerPool(t, b.env.AdminURL), retention.DefaultPolicy, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]retention.Count{{Mission: "NER", Programme: "AVRR", Persons: 2}}, report); diff != "" {
		t.Fatalf("report (-want +got):\n%s", diff)
	}
	before := b.env.RowCounts(t, `intake."case"`, "intake.case_member")

	n, err := svc.EraseDue(ctx, retention.DefaultPolicy, now)
	if err != nil || n != 2 {
		t.Fatalf("EraseDue = %d, %v; want 2", n, err)
	}
	if n, err := svc.EraseDue(ctx, retention.DefaultPolicy, now); err != nil || n != 0 {
		t.Fatalf("second pass = %d, %v; want 0", n, err)
	}
	if after := b.env.RowCounts(t, `intake."case"`, "intake.case_member"); !equalCounts(after, before) {
		t.Fatalf("cases changed: %v, were %v", after, before)
	}

	got, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: avrr.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL,
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]*intakev1.PersonIdentity{got.GetIdentity().GetPrincipal()}, got.GetIdentity().GetHouseholdMembers()...) {
		if p.GetPerson() != nil || p.GetErasure().GetReason() != intakev1.ErasureReason_ERASURE_REASON_RETENTION_EXPIRED {
			t.Errorf("AVRR person after retention: %v", p)
		}
	}
	for _, c := range []*intakev1.Case{votCase, open, both} {
		got, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL,
			Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetIdentity().GetPrincipal().GetPerson() == nil {
			t.Errorf("case %s (%s, %s): identity erased too early", c.GetCaseId(), c.GetProgramme(), c.GetStatus())
		}
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM vault.erasure WHERE reason = 'RETENTION_EXPIRED' AND erased_by = 'retention'`); n != 2 {
		t.Fatalf("retention erasure records = %d, want 2", n)
	}

	// Eleven years on, the VoT victim is due as well; the person with an open case never is.
	later := now.AddDate(5, 0, 0)
	if n, err := svc.EraseDue(ctx, retention.DefaultPolicy, later); err != nil || n != 1 {
		t.Fatalf("EraseDue eleven years on = %d, %v; want 1", n, err)
	}
}
