package referral_test

import (
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/webhook"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// TestPartnerRegistry: only HQ keeps the registry; an update takes the version it read and
// keeps the code; a webhook connection gets a secret once, a rotation a new one; the list
// pages by name and filters by category and country.
func TestPartnerRegistry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got, err := b.ref.GetPartner(b.worker, &referralv1.GetPartnerRequest{PartnerId: b.partnerB})
	if err != nil {
		t.Fatal(err)
	}
	p := got.GetPartner()
	update := &referralv1.UpdatePartnerRequest{RequestId: uuid.NewString(), PartnerId: p.GetPartnerId(), Version: p.GetVersion(),
		Name: "Safe Homes", Services: p.GetServices(), Countries: []string{"NER", "MLI"},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK, WebhookUrl: "https://safe.example/hooks"},
		Agreement:  p.GetAgreement()}

	// A mission's staff cannot change the registry, nor can HQ with a stale version or a
	// webhook over plain http to another host.
	_, err = b.ref.UpdatePartner(b.env.As(t, auth.RoleAdmin, "NER"), update)
	wantCode(t, err, codes.PermissionDenied)
	stale := proto.Clone(update).(*referralv1.UpdatePartnerRequest)
	stale.RequestId, stale.Version = uuid.NewString(), p.GetVersion()+1
	_, err = b.ref.UpdatePartner(b.hq, stale)
	wantCode(t, err, codes.FailedPrecondition)
	insecure := proto.Clone(update).(*referralv1.UpdatePartnerRequest)
	insecure.RequestId = uuid.NewString()
	insecure.Connection = &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK, WebhookUrl: "http://safe.example/hooks"}
	_, err = b.ref.UpdatePartner(b.hq, insecure)
	wantCode(t, err, codes.InvalidArgument)

	first, err := b.ref.UpdatePartner(b.hq, update)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.ParseSecret(first.GetSigningSecret()); err != nil || first.GetPartner().GetVersion() != p.GetVersion()+1 {
		t.Fatalf("a new webhook connection gets a secret: %v, version %d", err, first.GetPartner().GetVersion())
	}
	if first.GetPartner().GetCode() != p.GetCode() || first.GetPartner().GetName() != "Safe Homes" {
		t.Fatalf("updated partner: %v", first.GetPartner())
	}
	// A retry answers the first result without the secret.
	again, err := b.ref.UpdatePartner(b.hq, update)
	if err != nil || again.GetSigningSecret() != "" || again.GetPartner().GetVersion() != first.GetPartner().GetVersion() {
		t.Fatalf("retry: %v, secret returned again %v", err, again.GetSigningSecret() != "")
	}
	// Keeping the connection keeps the secret; rotating gives a new one.
	keep := proto.Clone(update).(*referralv1.UpdatePartnerRequest)
	keep.RequestId, keep.Version = uuid.NewString(), first.GetPartner().GetVersion()
	kept, err := b.ref.UpdatePartner(b.hq, keep)
	if err != nil || kept.GetSigningSecret() != "" || !kept.GetPartner().GetConnection().GetHasSigningSecret() {
		t.Fatalf("keep: %v", err)
	}
	rotate := proto.Clone(keep).(*referralv1.UpdatePartnerRequest)
	rotate.RequestId, rotate.Version, rotate.RotateSigningSecret = uuid.NewString(), kept.GetPartner().GetVersion(), true
	rotated, err := b.ref.UpdatePartner(b.hq, rotate)
	if err != nil || rotated.GetSigningSecret() == "" || rotated.GetSigningSecret() == first.GetSigningSecret() {
		t.Fatalf("rotate: %v", err)
	}

	// Paging by name, one at a time, and the filters.
	var names []string
	token := ""
	for {
		page, err := b.ref.ListPartners(b.worker, &referralv1.ListPartnersRequest{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page.GetPartners() {
			names = append(names, x.GetName())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(names) != 2 || names[0] != "Safe Homes" || names[1] != "UNHCR-NER Niger" {
		t.Fatalf("partners by name: %v", names)
	}
	mli, err := b.ref.ListPartners(b.worker, &referralv1.ListPartnersRequest{Country: "MLI"})
	if err != nil || len(mli.GetPartners()) != 1 {
		t.Fatalf("partners in MLI: %v", err)
	}
	legal, err := b.ref.ListPartners(b.worker, &referralv1.ListPartnersRequest{ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_LEGAL})
	if err != nil || len(legal.GetPartners()) != 0 {
		t.Fatalf("partners offering legal aid: %v", err)
	}
	_, err = b.ref.ListPartners(b.worker, &referralv1.ListPartnersRequest{Country: "MLI", PageToken: token + "x"})
	wantCode(t, err, codes.InvalidArgument)
}
