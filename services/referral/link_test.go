package referral_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/referral"
)

// inbound has partner send NER an inbound referral for shelter.
func (b *bundle) inbound(t *testing.T, partner, reference string) *referralv1.Referral {
	t.Helper()
	resp, err := b.ref.CreateInboundReferral(b.partner(t, partner), &referralv1.CreateInboundReferralRequest{
		PartnerReference: reference, Mission: "NER", ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Reason: referralv1.ReferralReason_REFERRAL_REASON_NATIONAL_REFERRAL_MECHANISM})
	if err != nil {
		t.Fatalf("CreateInboundReferral: %v", err)
	}
	return resp.GetReferral()
}

func (b *bundle) link(ctx context.Context, r *referralv1.Referral, caseID string) (*referralv1.Referral, error) {
	resp, err := b.ref.LinkReferralCase(ctx, &referralv1.LinkReferralCaseRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion(), CaseId: caseID})
	return resp.GetReferral(), err
}

// TestInboundReferralGetsACase: a partner's referral, once the mission accepted it, is
// linked to a case opened for the person through intake's own RegisterCase. The link is
// stored with the principal's subject id, visible to staff in GetReferral and in
// ListReferrals by case, audited on the referral and on the case, written to the outbox, and
// invisible to the partner, which gains no access to the case. Linking is refused before
// acceptance, for an outbound referral, twice, against a stale version, and across missions,
// where the database refuses it too.
func TestInboundReferralGetsACase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.inbound(t, b.partnerA, "UNHCR/NER/2026/0042")
	c := b.registerCase(t) // the case the caseworker opens for the person referred

	_, err := b.link(b.worker, r, c.GetCaseId())
	wantCode(t, err, codes.FailedPrecondition) // RECEIVED: not accepted yet
	acc, err := b.ref.AcceptReferral(b.worker, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion()})
	if err != nil {
		t.Fatal(err)
	}
	r = acc.GetReferral()
	_, err = b.link(b.env.As(t, auth.RoleCaseworker, "MLI"), r, c.GetCaseId())
	wantCode(t, err, codes.NotFound) // another mission's staff do not see the referral
	stale := proto.Clone(r).(*referralv1.Referral)
	stale.Version++
	_, err = b.link(b.worker, stale, c.GetCaseId())
	wantCode(t, err, codes.FailedPrecondition)

	// Another mission's case is not found from NER.
	mli, err := b.in.RegisterCase(b.env.As(t, auth.RoleCaseworker, "MLI"), &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(),
		Mission: "MLI", Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "MLI",
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 3, Day: 1}}},
		Principal: &commonv1.Person{GivenName: "Fatou", FamilyName: "Keita", Sex: commonv1.Sex_SEX_FEMALE, Nationality: "MLI",
			DateOfBirth: &date.Date{Year: 1990, Month: 1, Day: 2}},
		RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.link(b.worker, r, mli.GetCase().GetCaseId())
	wantCode(t, err, codes.NotFound)

	req := &referralv1.LinkReferralCaseRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: r.GetVersion(), CaseId: c.GetCaseId()}
	linked, err := b.ref.LinkReferralCase(b.worker, req)
	if err != nil {
		t.Fatalf("LinkReferralCase: %v", err)
	}
	got := linked.GetReferral()
	if got.GetCaseId() != c.GetCaseId() || got.GetSubjectId() != c.GetSubjectId() || got.GetVersion() != r.GetVersion()+1 ||
		got.GetStatus() != referralv1.ReferralStatus_REFERRAL_STATUS_ACCEPTED {
		t.Fatalf("linked referral: %v", got)
	}
	again, err := b.ref.LinkReferralCase(b.worker, req) // a retry answers the first result
	if err != nil || again.GetReferral().GetVersion() != got.GetVersion() {
		t.Fatalf("retry: %v, %v", again, err)
	}
	read, err := b.ref.GetReferral(b.super, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if err != nil || read.GetReferral().GetCaseId() != c.GetCaseId() {
		t.Fatalf("GetReferral after the link: %v, %v", read, err)
	}
	list, err := b.ref.ListReferrals(b.worker, &referralv1.ListReferralsRequest{CaseId: c.GetCaseId()})
	if err != nil || len(list.GetReferrals()) != 1 || list.GetReferrals()[0].GetReferralId() != r.GetReferralId() {
		t.Fatalf("ListReferrals by case: %v, %v", list, err)
	}
	_, err = b.link(b.worker, got, b.registerCase(t).GetCaseId())
	wantCode(t, err, codes.FailedPrecondition) // linked once

	// The partner sees its referral without the case, and no data of it.
	partner := b.partner(t, b.partnerA)
	seen, err := b.ref.GetReferral(partner, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if err != nil || seen.GetReferral().GetCaseId() != "" || seen.GetReferral().GetSubjectId() != "" {
		t.Fatalf("the partner's view: %v, %v", seen, err)
	}
	if _, err := b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(),
		Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_SERVICE_REFERRAL}); err == nil {
		t.Fatal("the partner read the data of the case linked to its inbound referral")
	}

	// And in the database itself: as the referral role, the partner's declaration reaches
	// neither the linked case's projection nor the person's identity.
	db := database.NewDB(b.env.Pool(t, referral.Role))
	for _, q := range []struct {
		what, sql string
		args      []any
	}{
		{"the linked case", `SELECT count(*) FROM referral."case" WHERE case_id = $1`, []any{c.GetCaseId()}},
		{"its person", `SELECT count(*) FROM vault.identity WHERE subject_id = $1`, []any{c.GetSubjectId()}},
		{"any case", `SELECT count(*) FROM referral."case"`, nil},
		{"any identity", `SELECT count(*) FROM vault.identity`, nil},
	} {
		var n int
		if err := db.Partner(b.partnerA).QueryRow(context.Background(), q.sql, q.args...).Scan(&n); err != nil || n != 0 {
			t.Errorf("the partner's transaction reads %s: %d rows, %v", q.what, n, err)
		}
	}

	// Nor can a partner's transaction set or change a referral's case (migration 000019's
	// trigger), though its policy lets it update its referrals to answer them.
	err = db.PartnerTx(context.Background(), b.partnerA, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE referral.referral SET case_id = NULL, subject_id = NULL WHERE referral_id = $1`,
			r.GetReferralId())
		return err
	})
	if err == nil {
		t.Error("a partner's transaction unlinked the referral's case")
	}

	// An outbound referral is not linked: it is made from its case.
	out := b.sent(t, b.registerCase(t, "UNHCR-NER"), b.partnerA)
	_, err = b.link(b.worker, out, c.GetCaseId())
	wantCode(t, err, codes.FailedPrecondition)

	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		var audits, events int
		if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE aggregate_id = $1), count(*) FILTER (WHERE aggregate_id = $2)
FROM audit.record WHERE method = '/passage.referral.v1.ReferralService/LinkReferralCase' AND mission = 'NER'`,
			r.GetReferralId(), c.GetCaseId()).Scan(&audits, &events); err != nil || audits != 1 || events != 1 {
			t.Errorf("audit records on the referral %d and on the case %d, %v; want 1 and 1", audits, events, err)
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM outbox.event WHERE producer = 'referral' AND aggregate_id = $1
  AND event_type = 'passage.referral.v1.InboundReferralLinked'`, r.GetReferralId()).Scan(&events); err != nil || events != 1 {
			t.Errorf("%d InboundReferralLinked events, %v; want 1", events, err)
		}
		// The database holds the mission rule itself: a write tying the referral to MLI's case
		// fails, whoever makes it.
		_, err := conn.Exec(ctx, `UPDATE referral.referral SET case_id = $2, subject_id = $3 WHERE referral_id = $1`,
			r.GetReferralId(), mli.GetCase().GetCaseId(), mli.GetCase().GetSubjectId())
		if err == nil {
			t.Error("the database let an inbound referral of NER be linked to a case of MLI")
		}
	})
}
