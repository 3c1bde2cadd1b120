package referral_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// TestRacingRetryOfCreateReferral: two calls with the same request id, racing, both get the
// one referral that was written.
func TestRacingRetryOfCreateReferral(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER", "NGO-SAFE")
	// A first referral, to the other partner, waits until the service has learnt of the case.
	if _, err := b.create(t, b.worker, c, b.partnerB, nil); err != nil {
		t.Fatalf("CreateReferral: %v", err)
	}
	req := &referralv1.CreateReferralRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), PartnerId: b.partnerA,
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Reason:          referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE}
	call := func() (*referralv1.CreateReferralResponse, error) {
		return b.ref.CreateReferral(b.worker, proto.CloneOf(req))
	}
	got, errs := testserver.Race(t, b.env, "referral.idempotency", call, call)
	testserver.WantAlike(t, got, errs)
	if n := b.count(t, "referral.referral WHERE partner_id = '"+b.partnerA+"'"); n != 1 {
		t.Errorf("%d referrals to the partner, want 1", n)
	}
	// A later retry gets the same answer too.
	again, err := call()
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := cmp.Diff(got[0], again, protocmp.Transform()); diff != "" {
		t.Errorf("a later retry answered differently (-first +retry):\n%s", diff)
	}
}

// TestRacingRetryOfRegisterPartner: of two racing calls with the same request id, the one whose
// write committed hands out the partner's signing secret and the other answers with the stored
// first result, which holds none (a secret is handed out once); another request racing under
// the same request id is refused, naming request_id. One partner is written either way.
func TestRacingRetryOfRegisterPartner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	register := func(requestID, code string) func() (*referralv1.RegisterPartnerResponse, error) {
		req := &referralv1.RegisterPartnerRequest{RequestId: requestID, Code: code, Name: code + " Niger",
			Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"NER"},
			Services: []*referralv1.PartnerService{{Name: "Legal aid",
				Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
			// A webhook partner gets a signing secret, which only its first registration hands out.
			Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK, WebhookUrl: "https://legal-aid.example/hooks"},
			Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-" + code, StartDate: &date.Date{Year: 2024, Month: 1, Day: 1},
				ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}}
		return func() (*referralv1.RegisterPartnerResponse, error) { return b.ref.RegisterPartner(b.hq, req) }
	}

	t.Run("a retry", func(t *testing.T) {
		call := register(uuid.NewString(), "LEGAL-AID")
		got, errs := testserver.Race(t, b.env, "referral.idempotency", call, call)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("racing call %d: %v", i, err)
			}
		}
		if diff := cmp.Diff(got[0].GetPartner(), got[1].GetPartner(), protocmp.Transform()); diff != "" {
			t.Errorf("the racing calls answered with different partners (-first +second):\n%s", diff)
		}
		if secrets := []string{got[0].GetSigningSecret(), got[1].GetSigningSecret()}; (secrets[0] == "") == (secrets[1] == "") {
			t.Errorf("signing secrets handed out %q, want exactly one", secrets)
		}
		if n := b.count(t, "referral.partner WHERE code = 'LEGAL-AID'"); n != 1 {
			t.Errorf("%d partners written, want 1", n)
		}
	})

	t.Run("another request under the same request id", func(t *testing.T) {
		id := uuid.NewString()
		_, errs := testserver.Race(t, b.env, "referral.idempotency", register(id, "LEGAL-AID-2"), register(id, "LEGAL-AID-3"))
		testserver.WantOneThrough(t, errs)
		if n := b.count(t, "referral.partner WHERE code IN ('LEGAL-AID-2', 'LEGAL-AID-3')"); n != 1 {
			t.Errorf("%d partners written, want 1", n)
		}
	})
}
