package intake_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// planted are the identifiers of amina(); none may be found outside the vault's ciphertext.
var planted = []string{"Amina", "Zawadi", "Okonkwo", "A09876543", "90 12 34 56", "Plateau", "1992-05-17"}

// TestNoIdentityInTheDatabase reads every row of every table as text, as a dump or a backup
// would show it, and finds none of the planted identifiers, in clear or hex-encoded.
func TestNoIdentityInTheDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina(), child("Chidi", 2019))).GetCase()
	b.register(t, registration(amina())) // a duplicate, so match data is written too
	if _, err := b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 1,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"principal"}}, Principal: amina()}); err != nil {
		t.Fatal(err)
	}
	// A case assignment, so that its event (CaseAssignmentChanged) is in the scan too.
	b.env.Provision(t, "cw-assigned", auth.RoleCaseworker, "NER")
	if _, err := b.client.AssignCase(b.env.As(t, auth.RoleSupervisor, "NER"), &intakev1.AssignCaseRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), StaffId: "cw-assigned"}); err != nil {
		t.Fatal(err)
	}

	all := b.env.Dump(t)
	for _, p := range planted {
		for _, form := range []string{strings.ToLower(p), hex.EncodeToString([]byte(p))} {
			if strings.Contains(all, strings.ToLower(form)) {
				t.Errorf("the database holds %q (as %q)", p, form)
			}
		}
	}
	if !strings.Contains(all, strings.ToLower(c.GetCaseId())) {
		t.Fatal("the dump does not even hold the case: the scan read nothing")
	}
	// The assignment's event payload, hex-encoded as a dump shows bytea, was scanned too.
	if !strings.Contains(all, hex.EncodeToString([]byte("cw-assigned"))) {
		t.Fatal("the dump does not hold the assignment's event: the scan missed it")
	}
}

// TestNoPersonalDataInLogs drives success and failure paths with planted identifiers and
// scans everything the server logged and every span it traced.
func TestNoPersonalDataInLogs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	b.register(t, registration(amina()))
	if _, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}); err != nil {
		t.Fatal(err)
	}
	failures := []func(r *intakev1.RegisterCaseRequest){
		func(r *intakev1.RegisterCaseRequest) { r.HostCountry = "XYZ" },
		func(r *intakev1.RegisterCaseRequest) {
			r.Principal.DateOfBirth = &date.Date{Year: 2030, Month: 1, Day: 1}
		},
		func(r *intakev1.RegisterCaseRequest) { r.Principal.Nationality = "Amina" },
		func(r *intakev1.RegisterCaseRequest) { r.Principal.Phone = "Amina Zawadi" },
		func(r *intakev1.RegisterCaseRequest) { r.Consents = nil },
		func(r *intakev1.RegisterCaseRequest) { r.Mission = "DEU" },
		func(r *intakev1.RegisterCaseRequest) {
			r.Principal.Documents = append(r.Principal.Documents, &commonv1.IdentityDocument{Number: "A09876543"})
		},
	}
	for _, edit := range failures {
		req := registration(amina())
		edit(req)
		if _, err := b.client.RegisterCase(b.worker, req); err == nil {
			t.Fatal("a bad registration succeeded")
		}
	}
	_, err := b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 9,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"principal"}}, Principal: amina()})
	if err == nil {
		t.Fatal("a stale update succeeded")
	}
	// Consent calls, with planted identifiers where a careless client would put them.
	rec, err := b.client.RecordConsent(b.worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), Consent: &commonv1.Consent{SubjectId: c.GetSubjectId(), Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS,
			Granted: true, Date: &date.Date{Year: 2026, Month: 3, Day: 14}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.WithdrawConsent(b.worker, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: rec.GetCase().GetVersion(), ConsentId: rec.GetConsent().GetConsentId(), Date: &date.Date{Year: 2026, Month: 3, Day: 14}}); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*commonv1.Consent{
		{SubjectId: "Amina Zawadi", Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Date: &date.Date{Year: 2026, Month: 3, Day: 14}},
		{SubjectId: c.GetSubjectId(), Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Partner: "Amina Zawadi-Okonkwo",
			Date: &date.Date{Year: 2026, Month: 3, Day: 14}},
		{SubjectId: c.GetSubjectId(), Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Partner: "A09876543",
			Granted: true, LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_CONTRACT, Date: &date.Date{Year: 2026, Month: 3, Day: 14}},
	} {
		if _, err := b.client.RecordConsent(b.worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: 1, Consent: x}); err == nil {
			t.Fatal("a bad consent record was accepted")
		}
	}

	logs := b.env.Logs.String()
	if !strings.Contains(logs, "RegisterCase") {
		t.Fatalf("the server logged no calls; the scan would prove nothing:\n%s", logs)
	}
	spans := testserver.SpanText()
	if !strings.Contains(spans, "passage.intake.v1.IntakeService/RegisterCase") || !strings.Contains(spans, "INSERT") {
		t.Fatalf("no gRPC or query spans were recorded; the scan would prove nothing:\n%s", spans)
	}
	for _, p := range planted {
		if strings.Contains(logs, p) {
			t.Errorf("the logs carry %q", p)
		}
		if strings.Contains(spans, p) {
			t.Errorf("the spans carry %q", p)
		}
	}
}

// TestRoleGrants proves the grant model: each service role reaches only what it needs.
func TestRoleGrants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, registration(amina()))
	ctx := context.Background()

	intakePool := b.env.Pool(t, "passage_intake")
	analyticsPool := b.env.Pool(t, "passage_analytics")
	for _, tt := range []struct {
		who     string
		q       database.Querier
		sql     string
		allowed bool
	}{
		{"intake reads its cases", intakePool, `SELECT count(*) FROM intake."case"`, true},
		{"intake reads the vault", intakePool, `SELECT count(*) FROM vault.identity`, true},
		// As the hand-over consumer (migrations/000028); row-level security shows it the
		// hand-over service's share events, and its own mission's.
		{"intake reads events", intakePool, `SELECT count(*) FROM outbox.event`, true},
		{"intake deletes events", intakePool, `DELETE FROM outbox.event`, false},
		{"intake deletes cases", intakePool, `DELETE FROM intake."case"`, false},
		// Intake may delete an identity only through an erasure (a trigger refuses the rest);
		// declared for the mission, so that row-level security shows it the rows.
		{"intake deletes identities", database.NewDB(intakePool).Mission("NER"), `DELETE FROM vault.identity`, false},
		{"intake rewrites idempotency records", intakePool, `UPDATE intake.idempotency SET response = ''`, false},
		{"intake creates tables", intakePool, `CREATE TABLE intake.extra (x int)`, false},
		{"intake creates in public", intakePool, `CREATE TABLE public.extra (x int)`, false},
		// Events carry pseudonymous subject ids: the analytics query role reads none (000013);
		// its projector role does, and writes only anonymised counts.
		{"analytics reads events", analyticsPool, `SELECT count(*) FROM outbox.event`, false},
		{"analytics reads the vault", analyticsPool, `SELECT count(*) FROM vault.identity`, false},
		{"analytics reads blind indexes", analyticsPool, `SELECT count(*) FROM vault.blind_index`, false},
		{"analytics reads cases", analyticsPool, `SELECT count(*) FROM intake."case"`, false},
		{"analytics reads case members", analyticsPool, `SELECT count(*) FROM intake.case_member`, false},
		{"analytics writes events", analyticsPool, `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload) VALUES ('x', 'x', gen_random_uuid(), 'NER', '')`, false},
	} {
		_, err := tt.q.Exec(ctx, tt.sql)
		var pgErr *pgconn.PgError
		refused := errors.As(err, &pgErr) && pgErr.Code == "42501" // insufficient_privilege
		switch {
		case tt.allowed && err != nil:
			t.Errorf("%s: refused: %v", tt.who, err)
		case !tt.allowed && !refused:
			t.Errorf("%s: got %v, want insufficient_privilege", tt.who, err)
		}
	}
}
