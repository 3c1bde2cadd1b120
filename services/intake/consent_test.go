package intake_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

var (
	assistancePurpose = commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE
	statisticsPurpose = commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS
	sharingPurpose    = commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING
)

// day is a calendar date as the protos carry it.
var day = testtime.Day

// withStatistics is a registration whose principal also consents to anonymised statistics.
func withStatistics(req *intakev1.RegisterCaseRequest) *intakev1.RegisterCaseRequest {
	req.Consents = append(req.Consents, &commonv1.Consent{Purpose: statisticsPurpose, Granted: true, Date: day(2026, 3, 14)})
	return req
}

func (b *bundle) recordConsent(t *testing.T, c *intakev1.Case, x *commonv1.Consent) *intakev1.RecordConsentResponse {
	t.Helper()
	resp, err := b.client.RecordConsent(b.worker, &intakev1.RecordConsentRequest{
		RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(), Consent: x})
	if err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	return resp
}

func (b *bundle) withdraw(t *testing.T, c *intakev1.Case, consentID string) *intakev1.WithdrawConsentResponse {
	t.Helper()
	resp, err := b.client.WithdrawConsent(b.worker, &intakev1.WithdrawConsentRequest{
		RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(), ConsentId: consentID, Date: day(2026, 3, 14)})
	if err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	return resp
}

// consentOf returns the consent record in force for a person and purpose, or nil.
func consentOf(c *intakev1.Case, subject string, purpose commonv1.ConsentPurpose) *commonv1.Consent {
	for _, x := range c.GetConsents() {
		if x.GetInForce() && x.GetSubjectId() == subject && x.GetPurpose() == purpose {
			return x
		}
	}
	return nil
}

// TestConsentHistory records, withdraws and grants again, and finds every record kept, each
// with what holds now, in GetCase, in the events and in the database.
func TestConsentHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, withStatistics(registration(amina(), child("Chidi", 2019)))).GetCase()
	principal, chidi := c.GetSubjectId(), c.GetHouseholdMembers()[0].GetSubjectId()
	if !c.GetPrincipal().GetInStatistics() || c.GetHouseholdMembers()[0].GetInStatistics() {
		t.Fatalf("in_statistics: principal %v, child %v; want true (consented), false (no record)",
			c.GetPrincipal().GetInStatistics(), c.GetHouseholdMembers()[0].GetInStatistics())
	}
	stats := consentOf(c, principal, statisticsPurpose)
	if stats == nil {
		t.Fatal("the registration's statistics consent is not in force")
	}

	// Sharing with a named partner, for the child: a record of its own, for that person.
	shared := b.recordConsent(t, c, &commonv1.Consent{SubjectId: chidi, Purpose: sharingPurpose, Granted: true,
		Date: day(2026, 3, 13), Partner: "UNICEF"})
	c = shared.GetCase()
	if c.GetVersion() != 2 || shared.GetConsent().GetRecordedBy() == "" || uuid.Validate(shared.GetConsent().GetConsentId()) != nil ||
		!shared.GetConsent().GetInForce() {
		t.Fatalf("recorded consent %v on case version %d", shared.GetConsent(), c.GetVersion())
	}

	// Withdrawal of statistics: the record stays, withdrawn; the principal leaves the statistics.
	withdrawn := b.withdraw(t, c, stats.GetConsentId())
	c = withdrawn.GetCase()
	if w := withdrawn.GetConsent().GetWithdrawal(); w == nil || w.GetRecordedBy() == "" || withdrawn.GetConsent().GetInForce() {
		t.Fatalf("withdrawn record %v", withdrawn.GetConsent())
	}
	if c.GetPrincipal().GetInStatistics() || consentOf(c, principal, statisticsPurpose) != nil {
		t.Fatal("statistics still allowed after withdrawal")
	}

	// Granted again: a new record in force, the withdrawn one kept as it was.
	regranted := b.recordConsent(t, c, &commonv1.Consent{SubjectId: principal, Purpose: statisticsPurpose, Granted: true, Date: day(2026, 3, 14)})
	c = regranted.GetCase()
	if !c.GetPrincipal().GetInStatistics() || c.GetVersion() != 4 {
		t.Fatalf("after re-grant: in_statistics %v, version %d", c.GetPrincipal().GetInStatistics(), c.GetVersion())
	}
	if n := len(c.GetConsents()); n != 4 {
		t.Fatalf("history holds %d records, want 4 (assistance, statistics withdrawn, sharing, statistics)", n)
	}
	if old := c.GetConsents()[1]; old.GetConsentId() != stats.GetConsentId() || old.GetWithdrawal() == nil || old.GetInForce() {
		t.Errorf("the withdrawn record changed: %v", old)
	}

	got, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got.GetCase(), protocmp.Transform()); diff != "" {
		t.Errorf("GetCase differs from the last response (-response +read):\n%s", diff)
	}

	var kinds []string
	var flags []bool
	for _, p := range testserver.Payloads(b.env.AggregateEvents(t, "intake", c.GetCaseId())) {
		kinds = append(kinds, string(proto.MessageName(p).Name()))
		switch e := p.(type) {
		case *intakev1.ConsentRecorded:
			flags = append(flags, e.GetCase().GetPrincipal().GetInStatistics())
		case *intakev1.ConsentWithdrawn:
			flags = append(flags, e.GetCase().GetPrincipal().GetInStatistics())
			if e.GetConsent().GetConsentId() != stats.GetConsentId() {
				t.Errorf("ConsentWithdrawn names %s, want %s", e.GetConsent().GetConsentId(), stats.GetConsentId())
			}
		}
	}
	if diff := cmp.Diff([]string{"CaseRegistered", "ConsentRecorded", "ConsentWithdrawn", "ConsentRecorded"}, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false, true}, flags); diff != "" {
		t.Errorf("in_statistics carried by the consent events (-want +got):\n%s", diff)
	}
	if n := b.env.Count(t, "intake.consent_withdrawal"); n != 1 {
		t.Errorf("%d withdrawal rows, want 1", n)
	}
}

// TestLegalBasisInsteadOfConsent: processing may rest on a legal basis rather than consent,
// at registration and later; without either, registration is refused naming the consent.
func TestLegalBasisInsteadOfConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := registration(amina())
	req.Consents[0].Granted = false
	before := b.stored(t)
	_, err := b.client.RegisterCase(b.worker, req)
	testserver.WantMissingConsent(t, err, "ASSISTANCE")
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a refused registration wrote (-before +after):\n%s", diff)
	}

	req.Consents[0].LegalBasis = commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS
	c := b.register(t, req).GetCase()
	x := consentOf(c, c.GetSubjectId(), assistancePurpose)
	if x == nil || x.GetGranted() || x.GetLegalBasis() != commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS {
		t.Fatalf("assistance on vital interests not in force: %v", c.GetConsents())
	}

	// The basis ends; a caseworker may not make the case ACTIVE, but may suspend and close it.
	c = b.withdraw(t, c, x.GetConsentId()).GetCase()
	_, err = b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE})
	testserver.WantMissingConsent(t, err, "ASSISTANCE")

	// Another basis recorded later allows it again.
	c = b.recordConsent(t, c, &commonv1.Consent{SubjectId: c.GetSubjectId(), Purpose: assistancePurpose,
		LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_PUBLIC_INTEREST, Date: day(2026, 3, 14)}).GetCase()
	if _, err := b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE}); err != nil {
		t.Fatalf("UpdateCase to ACTIVE on a public-interest basis: %v", err)
	}
}

// TestWithdrawnAssistanceStillAllowsClosing: a withdrawal is acted on by suspending and
// closing the case, which need no consent.
func TestWithdrawnAssistanceStillAllowsClosing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	c = b.withdraw(t, c, c.GetConsents()[0].GetConsentId()).GetCase()
	resp, err := b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_SUSPENDED})
	if err != nil {
		t.Fatalf("suspend after withdrawal: %v", err)
	}
	if _, err := b.client.CloseCase(b.worker, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: resp.GetCase().GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}); err != nil {
		t.Fatalf("close after withdrawal: %v", err)
	}
}

// TestConsentRefusals: each bad request is refused with the right code naming the field, and
// nothing is written.
func TestConsentRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, withStatistics(registration(amina()))).GetCase()
	stats := consentOf(c, c.GetSubjectId(), statisticsPurpose)
	withdrawnCase := b.withdraw(t, c, stats.GetConsentId()).GetCase()
	other := b.register(t, registration(amina())).GetCase()
	principal := c.GetSubjectId()

	record := func(edit func(*intakev1.RecordConsentRequest)) func(context.Context) error {
		return func(ctx context.Context) error {
			req := &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: withdrawnCase.GetCaseId(), Version: withdrawnCase.GetVersion(),
				Consent: &commonv1.Consent{SubjectId: principal, Purpose: statisticsPurpose, Granted: true, Date: day(2026, 3, 1)}}
			edit(req)
			_, err := b.client.RecordConsent(ctx, req)
			return err
		}
	}
	withdraw := func(edit func(*intakev1.WithdrawConsentRequest)) func(context.Context) error {
		return func(ctx context.Context) error {
			req := &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: withdrawnCase.GetCaseId(), Version: withdrawnCase.GetVersion(),
				ConsentId: withdrawnCase.GetConsents()[0].GetConsentId(), Date: day(2026, 3, 14)}
			edit(req)
			_, err := b.client.WithdrawConsent(ctx, req)
			return err
		}
	}
	tests := []struct {
		name  string
		ctx   context.Context
		call  func(context.Context) error
		code  codes.Code
		field string // the field violation, for INVALID_ARGUMENT; the precondition, for FAILED_PRECONDITION
	}{
		{"no subject", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Consent.SubjectId = "" }), codes.InvalidArgument, "consent.subject_id"},
		{"a person of another case", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Consent.SubjectId = other.GetSubjectId() }), codes.InvalidArgument, "consent.subject_id"},
		{"not a uuid", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Consent.SubjectId = "Amina" }), codes.InvalidArgument, "consent.subject_id"},
		{"no purpose", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Consent.Purpose = 0 }), codes.InvalidArgument, "consent.purpose"},
		{"date in the future", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Consent.Date = day(2026, 3, 15) }), codes.InvalidArgument, "consent.date"},
		{"granted on a legal basis", b.worker, record(func(r *intakev1.RecordConsentRequest) {
			r.Consent.LegalBasis = commonv1.LegalBasis_LEGAL_BASIS_LEGAL_OBLIGATION
		}), codes.InvalidArgument, "consent.granted"},
		{"sharing with nobody", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Consent.Purpose = sharingPurpose }), codes.InvalidArgument, "consent.partner"},
		{"sharing with a partner and a category", b.worker, record(func(r *intakev1.RecordConsentRequest) {
			r.Consent.Purpose, r.Consent.Partner, r.Consent.PartnerCategory = sharingPurpose, "UNHCR", commonv1.PartnerCategory_PARTNER_CATEGORY_NGO
		}), codes.InvalidArgument, "consent.partner_category"},
		{"a category for statistics", b.worker, record(func(r *intakev1.RecordConsentRequest) {
			r.Consent.PartnerCategory = commonv1.PartnerCategory_PARTNER_CATEGORY_NGO
		}), codes.InvalidArgument, "consent.partner_category"},
		{"stale version", b.worker, record(func(r *intakev1.RecordConsentRequest) { r.Version = 1 }), codes.FailedPrecondition, "VERSION"},
		{"another mission's case", b.other, record(func(*intakev1.RecordConsentRequest) {}), codes.NotFound, ""},
		{"an analyst", b.env.As(t, auth.RoleAnalyst, "NER"), record(func(*intakev1.RecordConsentRequest) {}), codes.PermissionDenied, ""},
		{"a partner", b.env.As(t, auth.RolePartner, "NER"), record(func(*intakev1.RecordConsentRequest) {}), codes.PermissionDenied, ""},
		{"an administrator", b.env.As(t, auth.RoleAdmin, "NER"), record(func(*intakev1.RecordConsentRequest) {}), codes.PermissionDenied, ""},

		{"an unknown record", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.ConsentId = uuid.NewString() }), codes.NotFound, ""},
		{"another case's record", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) {
			r.ConsentId = other.GetConsents()[0].GetConsentId()
		}), codes.NotFound, ""},
		{"withdrawn twice", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.ConsentId = stats.GetConsentId() }), codes.FailedPrecondition, "CONSENT"},
		{"before the consent", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.Date = day(2026, 3, 13) }), codes.InvalidArgument, "date"},
		{"in the future", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.Date = day(2026, 3, 15) }), codes.InvalidArgument, "date"},
		{"no date", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.Date = nil }), codes.InvalidArgument, "date"},
		{"a bad consent id", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.ConsentId = "Amina" }), codes.InvalidArgument, "consent_id"},
		{"withdraw: stale version", b.worker, withdraw(func(r *intakev1.WithdrawConsentRequest) { r.Version = 1 }), codes.FailedPrecondition, "VERSION"},
		{"withdraw: another mission", b.other, withdraw(func(*intakev1.WithdrawConsentRequest) {}), codes.NotFound, ""},
		{"withdraw: an analyst", b.env.As(t, auth.RoleAnalyst, "NER"), withdraw(func(*intakev1.WithdrawConsentRequest) {}), codes.PermissionDenied, ""},
		{"withdraw: a programme manager", b.env.As(t, auth.RoleProgrammeManager, auth.MissionHQ), withdraw(func(*intakev1.WithdrawConsentRequest) {}), codes.PermissionDenied, ""},
	}
	tables := []string{`intake."case"`, "intake.consent", "intake.consent_withdrawal", "intake.idempotency", "outbox.event"}
	before := b.env.RowCounts(t, tables...)
	for _, tt := range tests {
		err := tt.call(tt.ctx)
		st := testserver.WantCode(t, err, tt.code)
		switch tt.code {
		case codes.InvalidArgument:
			if f := testserver.FieldViolations(st); !slicesContain(f, tt.field) {
				t.Errorf("%s: violations %q, want %s", tt.name, f, tt.field)
			}
		case codes.FailedPrecondition:
			if v := testserver.PreconditionViolations(st); len(v) != 1 || !strings.HasPrefix(v[0], tt.field) {
				t.Errorf("%s: violations %q, want %s", tt.name, v, tt.field)
			}
		}
		if strings.Contains(st.Message(), "Amina") {
			t.Errorf("%s: the error echoes personal data: %s", tt.name, st.Message())
		}
	}
	if diff := cmp.Diff(before, b.env.RowCounts(t, tables...)); diff != "" {
		t.Errorf("refused calls wrote (-before +after):\n%s", diff)
	}
}

func slicesContain(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestConsentRetries: a retried RecordConsent or WithdrawConsent returns the first result and
// writes nothing twice, even when the retries race; a request id reused for another request
// is refused.
func TestConsentRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	rec := &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(),
		Consent: &commonv1.Consent{SubjectId: c.GetSubjectId(), Purpose: sharingPurpose, Granted: true, Date: day(2026, 3, 14),
			PartnerCategory: commonv1.PartnerCategory_PARTNER_CATEGORY_UN_AGENCY}}
	responses := make([]*intakev1.RecordConsentResponse, 4)
	var wg sync.WaitGroup
	for i := range responses {
		wg.Go(func() {
			resp, err := b.client.RecordConsent(b.worker, rec)
			if err != nil {
				t.Errorf("RecordConsent retry %d: %v", i, err)
			}
			responses[i] = resp
		})
	}
	wg.Wait()
	for _, r := range responses[1:] {
		if diff := cmp.Diff(responses[0], r, protocmp.Transform()); diff != "" {
			t.Errorf("retries got different results (-first +other):\n%s", diff)
		}
	}
	c = responses[0].GetCase()
	wd := &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(),
		ConsentId: responses[0].GetConsent().GetConsentId(), Date: day(2026, 3, 14)}
	first, err := b.client.WithdrawConsent(b.worker, wd)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.client.WithdrawConsent(b.worker, wd)
	if err != nil {
		t.Fatalf("retried WithdrawConsent: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("retried withdrawal (-first +retry):\n%s", diff)
	}
	if n := b.env.Count(t, "intake.consent"); n != 2 {
		t.Errorf("%d consent rows, want 2", n)
	}
	if n := b.env.Count(t, "intake.consent_withdrawal"); n != 1 {
		t.Errorf("%d withdrawal rows, want 1", n)
	}
	if n := len(b.env.AggregateEvents(t, "intake", c.GetCaseId())); n != 3 {
		t.Errorf("%d events, want 3 (registered, recorded, withdrawn)", n)
	}

	reused := proto.CloneOf(wd)
	reused.Date = day(2026, 3, 13)
	_, err = b.client.WithdrawConsent(b.worker, reused)
	if f := testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument)); !slicesContain(f, "request_id") {
		t.Errorf("violations %q, want request_id", f)
	}
}

// TestRegistrationConsentsArePrincipals: at registration no subject id exists yet; naming one
// is refused, and every consent recorded is the principal's.
func TestRegistrationConsentsArePrincipals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := registration(amina())
	req.Consents[0].SubjectId = uuid.NewString()
	_, err := b.client.RegisterCase(b.worker, req)
	if f := testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument)); !slicesContain(f, "consents[0].subject_id") {
		t.Errorf("violations %q, want consents[0].subject_id", f)
	}
}

// TestConsentHistoryIsAppendOnly: intake's role may add consent records and withdrawals but
// never change or delete one, and sees and writes withdrawals of its transaction's mission
// only (row-level security).
func TestConsentHistoryIsAppendOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	b.withdraw(t, c, c.GetConsents()[0].GetConsentId())
	ctx := context.Background()
	pool := b.env.Pool(t, "passage_intake")
	for _, sql := range []string{
		`UPDATE intake.consent SET granted = true`,
		`DELETE FROM intake.consent`,
		`UPDATE intake.consent_withdrawal SET withdrawn_on = '2026-01-01'`,
		`DELETE FROM intake.consent_withdrawal`,
	} {
		_, err := pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: got %v, want insufficient_privilege", sql, err)
		}
	}

	count := func(mission string) int {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		var n int
		if _, err := tx.Exec(ctx, `SELECT set_config('passage.mission', $1, true)`, mission); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM intake.consent_withdrawal`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("NER"); n != 1 {
		t.Errorf("NER sees %d withdrawals, want 1", n)
	}
	if n := count("DEU"); n != 0 {
		t.Errorf("DEU sees %d of NER's withdrawals", n)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM intake.consent_withdrawal`).Scan(&n); err != nil || n != 0 {
		t.Errorf("without a mission: %d rows, %v; want none", n, err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT set_config('passage.mission', 'DEU', true)`); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO intake.consent_withdrawal (consent_id, case_id, mission, withdrawn_on, recorded_by)
VALUES ($1, $2, 'NER', '2026-03-14', 'x')`, c.GetConsents()[0].GetConsentId(), c.GetCaseId())
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("DEU writing NER's withdrawal: got %v, want a row-level security refusal", err)
	}
}

// TestPolicyCoversEveryRPC: every RPC of the service is in the policy table (a method left
// out is denied to all), and consent is recorded and withdrawn by the mission's field staff.
func TestPolicyCoversEveryRPC(t *testing.T) {
	t.Parallel()
	p := intake.Policy()
	methods := intakev1.File_passage_intake_v1_intake_proto.Services().ByName("IntakeService").Methods()
	for i := range methods.Len() {
		name := "/passage.intake.v1.IntakeService/" + string(methods.Get(i).Name())
		if len(p[name]) == 0 {
			t.Errorf("%s is not in the policy", name)
		}
	}
	field := []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor}
	for _, m := range []string{intakev1.IntakeService_RecordConsent_FullMethodName, intakev1.IntakeService_WithdrawConsent_FullMethodName} {
		if diff := cmp.Diff(field, p[m]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", m, diff)
		}
	}

	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	if _, err := b.client.WithdrawConsent(b.env.As(t, auth.RoleSupervisor, "NER"), &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), ConsentId: c.GetConsents()[0].GetConsentId(), Date: day(2026, 3, 14)}); err != nil {
		t.Errorf("a supervisor of the mission withdraws: %v", err)
	}
}
