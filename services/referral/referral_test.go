package referral_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/referral"
)

const (
	draft     = referralv1.ReferralStatus_REFERRAL_STATUS_DRAFT
	sent      = referralv1.ReferralStatus_REFERRAL_STATUS_SENT
	received  = referralv1.ReferralStatus_REFERRAL_STATUS_RECEIVED
	accepted  = referralv1.ReferralStatus_REFERRAL_STATUS_ACCEPTED
	declined  = referralv1.ReferralStatus_REFERRAL_STATUS_DECLINED
	completed = referralv1.ReferralStatus_REFERRAL_STATUS_COMPLETED
	revoked   = referralv1.ReferralStatus_REFERRAL_STATUS_REVOKED
	expired   = referralv1.ReferralStatus_REFERRAL_STATUS_EXPIRED
	withdrawn = referralv1.ReferralStatus_REFERRAL_STATUS_WITHDRAWN
)

var purpose = commonv1.AccessPurpose_ACCESS_PURPOSE_SERVICE_REFERRAL

// TestConsentRefusalAndOverride: a referral without DATA_SHARING consent for the partner or
// its category is FAILED_PRECONDITION naming the consent, and writes nothing; a caseworker
// cannot override; a supervisor can, with a coded reason that the referral keeps; consent for
// the partner's category is enough.
func TestConsentRefusalAndOverride(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")

	before := b.count(t, "referral.referral")
	_, err := b.create(t, b.worker, c, b.partnerB, nil)
	st := wantCode(t, err, codes.FailedPrecondition)
	v := precondition(st)
	if len(v) != 1 || v[0].GetType() != "CONSENT" || v[0].GetSubject() != "DATA_SHARING" {
		t.Fatalf("violations %v, want one CONSENT violation for DATA_SHARING", v)
	}
	if got := b.count(t, "referral.referral"); got != before {
		t.Fatalf("a refused referral wrote %d rows", got-before)
	}

	override := &referralv1.ConsentOverride{Reason: referralv1.OverrideReason_OVERRIDE_REASON_VITAL_INTERESTS}
	_, err = b.create(t, b.worker, c, b.partnerB, override)
	wantCode(t, err, codes.PermissionDenied)

	r, err := b.create(t, b.super, c, b.partnerB, override)
	if err != nil {
		t.Fatalf("override by a supervisor: %v", err)
	}
	if r.GetConsentOverride().GetReason() != override.Reason || r.GetConsentOverride().GetRecordedBy() == "" || r.GetConsentId() != "" {
		t.Fatalf("override not recorded: %v", r)
	}

	// Consent for the partner itself: the referral names the consent record.
	r, err = b.create(t, b.worker, c, b.partnerA, nil)
	if err != nil || r.GetConsentId() == "" {
		t.Fatalf("with consent: %v, consent %q", err, r.GetConsentId())
	}
	// Consent recorded for the NGO category covers partner B.
	got, err := b.in.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.in.RecordConsent(b.worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: got.GetCase().GetVersion(), Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING,
			Granted: true, PartnerCategory: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, SubjectId: c.GetSubjectId(),
			Date: &date.Date{Year: 2026, Month: 3, Day: 2}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.create(t, b.worker, c, b.partnerB, nil); err != nil {
		t.Fatalf("with consent for the category: %v", err)
	}
}

// TestExpiredAgreementRefusesSending: a partner whose agreement has expired gets nothing sent.
func TestExpiredAgreementRefusesSending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.registerPartner(t, "NGO-OLD", commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, 2025)
	c := b.registerCase(t, "NGO-OLD")
	r, err := b.create(t, b.worker, c, old, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.ref.SendReferral(b.worker, &referralv1.SendReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(), Version: 1})
	st := wantCode(t, err, codes.FailedPrecondition)
	if v := precondition(st); len(v) != 1 || v[0].GetType() != "AGREEMENT" {
		t.Fatalf("violations %v, want AGREEMENT", v)
	}
	got, _ := b.ref.GetReferral(b.worker, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if got.GetReferral().GetStatus() != draft {
		t.Fatalf("status %v after a refused send", got.GetReferral().GetStatus())
	}
}

// TestOutboundLifecycle walks an outbound referral through every legal step, and tries the
// illegal ones on the way: each refused with FAILED_PRECONDITION and nothing changed.
func TestOutboundLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")
	partner := b.partner(t, b.partnerA)
	r, err := b.create(t, b.worker, c, b.partnerA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetStatus() != draft {
		t.Fatalf("created %v", r.GetStatus())
	}
	// A draft is the mission's: the partner does not see it, and cannot answer it.
	_, err = b.ref.AcceptReferral(partner, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(), Version: 1})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose})
	wantCode(t, err, codes.FailedPrecondition)

	s, err := b.ref.SendReferral(b.worker, &referralv1.SendReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(), Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	r = s.GetReferral()
	if r.GetStatus() != sent || r.GetProfileVersion() != 1 || r.GetRespondBy() == nil {
		t.Fatalf("sent: %v", r)
	}
	// The mission cannot answer its own outbound referral; nothing completes before acceptance.
	_, err = b.ref.AcceptReferral(b.worker, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(), Version: r.GetVersion()})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = b.ref.CompleteReferral(partner, &referralv1.CompleteReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: r.GetVersion(), Outcome: referralv1.ServiceOutcome_SERVICE_OUTCOME_DELIVERED})
	wantCode(t, err, codes.FailedPrecondition)

	// The partner reads the data: the profile's fields only, identity included; SENT becomes RECEIVED.
	data, err := b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose})
	if err != nil {
		t.Fatal(err)
	}
	if data.GetPerson().GetGivenName() != "Amina" || data.GetSex() != commonv1.Sex_SEX_FEMALE || data.GetNationality() != "NGA" {
		t.Fatalf("data: %v", data)
	}
	if data.GetPerson().GetPhone() != "" || data.GetPerson().GetDateOfBirth() != nil || data.GetAgeBand() != 0 || data.GetHostCountry() != "" {
		t.Fatalf("data shares fields its profile does not: %v", data)
	}
	got, err := b.ref.GetReferral(partner, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if err != nil || got.GetReferral().GetStatus() != received {
		t.Fatalf("after the first read: %v %v", err, got.GetReferral().GetStatus())
	}
	if got.GetReferral().GetCaseId() != "" || got.GetReferral().GetSubjectId() != "" {
		t.Fatal("the partner sees the mission's case and subject ids")
	}
	r = got.GetReferral()
	// A stale version is refused.
	_, err = b.ref.AcceptReferral(partner, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(), Version: 1})
	wantCode(t, err, codes.FailedPrecondition)

	acc, err := b.ref.AcceptReferral(partner, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: r.GetVersion(), PartnerReference: "UNHCR/NER/2026/0042"})
	if err != nil || acc.GetReferral().GetStatus() != accepted || acc.GetReferral().GetPartnerReference() != "UNHCR/NER/2026/0042" {
		t.Fatalf("accept: %v %v", err, acc.GetReferral())
	}
	// Accepted cannot be declined.
	_, err = b.ref.DeclineReferral(partner, &referralv1.DeclineReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: acc.GetReferral().GetVersion(), Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY})
	wantCode(t, err, codes.FailedPrecondition)
	req := &referralv1.CompleteReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: acc.GetReferral().GetVersion(), Outcome: referralv1.ServiceOutcome_SERVICE_OUTCOME_DELIVERED}
	done, err := b.ref.CompleteReferral(partner, req)
	if err != nil || done.GetReferral().GetStatus() != completed {
		t.Fatalf("complete: %v %v", err, done.GetReferral())
	}
	// A retry returns the first result and records nothing twice.
	transitions := b.count(t, "referral.transition")
	again, err := b.ref.CompleteReferral(partner, req)
	if err != nil || again.GetReferral().GetVersion() != done.GetReferral().GetVersion() || b.count(t, "referral.transition") != transitions {
		t.Fatalf("retry: %v", err)
	}
	// Completed is final: no revocation, and the data is closed.
	_, err = b.ref.RevokeReferral(b.worker, &referralv1.RevokeReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: done.GetReferral().GetVersion(), Reason: referralv1.RevokeReason_REVOKE_REASON_NO_LONGER_NEEDED})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose})
	wantCode(t, err, codes.FailedPrecondition)
}

// TestDeclineRevokeAndExpiry: the other ways a referral ends.
func TestDeclineRevokeAndExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")
	partner := b.partner(t, b.partnerA)

	r := b.sent(t, c, b.partnerA)
	d, err := b.ref.DeclineReferral(partner, &referralv1.DeclineReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: r.GetVersion(), Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY})
	if err != nil || d.GetReferral().GetStatus() != declined || d.GetReferral().GetDeclineReason() != referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY {
		t.Fatalf("decline: %v %v", err, d.GetReferral())
	}

	r = b.sent(t, c, b.partnerA)
	if _, err := b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose}); err != nil {
		t.Fatal(err)
	}
	rv, err := b.ref.RevokeReferral(b.worker, &referralv1.RevokeReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: r.GetVersion() + 1, Reason: referralv1.RevokeReason_REVOKE_REASON_PROTECTION_RISK})
	if err != nil || rv.GetReferral().GetStatus() != revoked {
		t.Fatalf("revoke: %v", err)
	}
	_, err = b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose})
	wantCode(t, err, codes.FailedPrecondition)

	r = b.sent(t, c, b.partnerA)
	if n, err := b.svc.ExpireDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("expired %d before the deadline (%v)", n, err)
	}
	b.clock.Advance(73 * time.Hour)
	if n, err := b.svc.ExpireDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("expired %d, want 1 (%v)", n, err)
	}
	got, _ := b.ref.GetReferral(b.worker, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if got.GetReferral().GetStatus() != expired {
		t.Fatalf("status %v, want EXPIRED", got.GetReferral().GetStatus())
	}
	_, err = b.ref.AcceptReferral(partner, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(), ReferralId: r.GetReferralId(),
		Version: got.GetReferral().GetVersion()})
	wantCode(t, err, codes.FailedPrecondition)
}

// TestWithdrawalRevokesAccess: once intake has withdrawn the consent, the partner's next read
// is refused (no waiting for the consumer), the referral is WITHDRAWN and the partner's feed
// says so; the database itself no longer lets the partner's transaction read the identity.
func TestWithdrawalRevokesAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")
	partner := b.partner(t, b.partnerA)
	r := b.sent(t, c, b.partnerA)
	if _, err := b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose}); err != nil {
		t.Fatal(err)
	}
	b.withdrawConsent(t, c, "UNHCR-NER")
	// The next read is refused: FAILED_PRECONDITION once the withdrawal is applied, or
	// UNAVAILABLE while a long transaction elsewhere keeps it out of reach; never the data.
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; {
		_, err = b.ref.GetReferralData(partner, &referralv1.GetReferralDataRequest{ReferralId: r.GetReferralId(), Purpose: purpose})
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantCode(t, err, codes.FailedPrecondition)
	now, err := b.ref.GetReferral(partner, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if err != nil || now.GetReferral().GetStatus() != withdrawn {
		t.Fatalf("after withdrawal: %v %v", err, now.GetReferral().GetStatus())
	}
	events := feedOf(t, b, partner, 100, 3) // sent, received, withdrawn
	if last := events[len(events)-1]; last.GetStatus() != withdrawn || last.GetReferralId() != r.GetReferralId() {
		t.Fatalf("the feed's last event is %v, want the withdrawal", last)
	}
	// Underneath: the referral role, declared for the partner, reads no identity now.
	pool := b.env.Pool(t, referral.Role)
	var n int
	if err := database.NewDB(pool).Partner(b.partnerA).QueryRow(context.Background(),
		`SELECT count(*) FROM vault.identity WHERE subject_id = $1`, c.GetSubjectId()).Scan(&n); err != nil || n != 0 {
		t.Fatalf("identity rows visible to the partner after withdrawal: %d (%v)", n, err)
	}
}

// TestPartnerIsolationInDatabase: as the referral role, a partner's declaration shows that
// partner's rows only; a mission's declaration shows no identity at all.
func TestPartnerIsolationInDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")
	b.sent(t, c, b.partnerA)
	db := database.NewDB(b.env.Pool(t, referral.Role))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		q    database.Querier
		sql  string
		want int
	}{
		{"partner A's referrals", db.Partner(b.partnerA), `SELECT count(*) FROM referral.referral`, 1},
		{"partner B's referrals", db.Partner(b.partnerB), `SELECT count(*) FROM referral.referral`, 0},
		{"partner B's feed", db.Partner(b.partnerB), `SELECT count(*) FROM referral.partner_event`, 0},
		{"partner B's cases", db.Partner(b.partnerB), `SELECT count(*) FROM referral."case"`, 0},
		{"partner B's identities", db.Partner(b.partnerB), `SELECT count(*) FROM vault.identity`, 0},
		{"partner A's identities", db.Partner(b.partnerA), `SELECT count(*) FROM vault.identity`, 1},
		{"the mission's identities", db.Mission("NER"), `SELECT count(*) FROM vault.identity`, 0},
		{"another mission's referrals", db.Mission("MLI"), `SELECT count(*) FROM referral.referral`, 0},
	} {
		var n int
		if err := tc.q.QueryRow(ctx, tc.sql).Scan(&n); err != nil || n != tc.want {
			t.Errorf("%s: %d rows (%v), want %d", tc.name, n, err, tc.want)
		}
	}
	// A partner's transaction cannot write another partner's referral.
	err := db.PartnerTx(ctx, b.partnerB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE referral.referral SET status = 'ACCEPTED'`)
		if err == nil && tag.RowsAffected() != 0 {
			t.Errorf("partner B updated %d referrals of partner A", tag.RowsAffected())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatusMachine checks every pair of statuses against the legal moves.
func TestStatusMachine(t *testing.T) {
	t.Parallel()
	legal := map[[2]referralv1.ReferralStatus]bool{
		{draft, sent}: true, {draft, revoked}: true, {draft, withdrawn}: true,
		{sent, received}: true, {sent, accepted}: true, {sent, declined}: true, {sent, revoked}: true, {sent, expired}: true, {sent, withdrawn}: true,
		{received, accepted}: true, {received, declined}: true, {received, revoked}: true, {received, expired}: true, {received, withdrawn}: true,
		{accepted, completed}: true, {accepted, revoked}: true, {accepted, withdrawn}: true,
	}
	all := []referralv1.ReferralStatus{draft, sent, received, accepted, declined, completed, revoked, expired, withdrawn}
	for _, from := range all {
		for _, to := range all {
			err := referral.CheckTransition(from, to)
			if (err == nil) != legal[[2]referralv1.ReferralStatus{from, to}] {
				t.Errorf("%v -> %v: %v, legal %v", from, to, err, legal[[2]referralv1.ReferralStatus{from, to}])
			}
		}
	}
	if !slices.Contains(all, withdrawn) {
		t.Fatal("unreachable")
	}
}

// feedOf reads a partner's feed until it holds at least want events: the feed shows an event
// once every transaction that began before it has ended (the commit horizon), which on a
// loaded machine, with other tests' transactions in the same cluster, can take a moment.
func feedOf(t *testing.T, b *bundle, partner context.Context, size int32, want int) []*referralv1.ReferralEvent {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		events := feed(t, b, partner, size)
		if len(events) >= want || time.Now().After(deadline) {
			return events
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// feed reads a partner's whole feed, page by page of size.
func feed(t *testing.T, b *bundle, partner context.Context, size int32) []*referralv1.ReferralEvent {
	t.Helper()
	var out []*referralv1.ReferralEvent
	cursor := ""
	for {
		resp, err := b.ref.ListReferralEvents(partner, &referralv1.ListReferralEventsRequest{PageSize: size, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListReferralEvents: %v", err)
		}
		out = append(out, resp.GetEvents()...)
		if len(resp.GetEvents()) == 0 {
			return out
		}
		cursor = resp.GetNextCursor()
	}
}
