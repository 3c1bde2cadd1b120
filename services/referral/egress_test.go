package referral_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/referral"
)

func webhookPartner(code, url string) *referralv1.RegisterPartnerRequest {
	return &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: code, Name: code,
		Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"NER"},
		Services:   []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK, WebhookUrl: url},
		Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-" + code, StartDate: &date.Date{Year: 2024, Month: 1, Day: 1},
			ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}}
}

// wantURLRefused fails unless err is INVALID_ARGUMENT naming connection.webhook_url.
func wantURLRefused(t *testing.T, url string, err error) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Errorf("%s: %v, want INVALID_ARGUMENT", url, err)
		return
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == "connection.webhook_url" {
					return
				}
			}
		}
	}
	t.Errorf("%s: %v does not name connection.webhook_url", url, err)
}

// In the production configuration (no network allowed) the registry refuses a webhook URL
// whose host is a non-public address, literal or in disguise, on registration and on update,
// storing nothing; an https URL with a name is accepted (its address is checked at each
// dial). With loopback allowed, as in development, plain http reaches an address of that
// network and nothing else.
func TestWebhookURLsMustBePublic(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil)
	before := b.count(t, "referral.partner")
	for _, url := range []string{
		"https://127.0.0.1/hooks", "https://localhost:8443/hooks", "https://[::1]/hooks", "https://169.254.169.254/latest",
		"https://10.1.2.3/hooks", "https://172.20.0.5/hooks", "https://192.168.1.10/hooks", "https://100.64.1.1/hooks",
		"https://[fd00::1]/hooks", "https://[fe80::1]/hooks", "https://0.0.0.0/hooks", "https://224.0.0.1/hooks",
		"https://[::ffff:10.0.0.1]/hooks", "https://2130706433/hooks", "https://0x7f.1/hooks",
		"http://127.0.0.1:9000/hooks", "http://partner.example.org/hooks", "https://user:pw@partner.example.org/hooks",
	} {
		_, err := b.ref.RegisterPartner(b.hq, webhookPartner("NGO-BAD", url))
		wantURLRefused(t, url, err)
	}
	if n := b.count(t, "referral.partner"); n != before {
		t.Fatalf("%d partners stored by refused registrations", n-before)
	}
	ok, err := b.ref.RegisterPartner(b.hq, webhookPartner("NGO-GOOD", "https://hooks.partner.example.org/passage"))
	if err != nil {
		t.Fatalf("a public https URL: %v", err)
	}
	p := ok.GetPartner()
	update := &referralv1.UpdatePartnerRequest{RequestId: uuid.NewString(), PartnerId: p.GetPartnerId(), Version: p.GetVersion(),
		Name: p.GetName(), Services: p.GetServices(), Countries: p.GetCountries(), Agreement: p.GetAgreement(),
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK, WebhookUrl: "https://169.254.169.254/"}}
	_, err = b.ref.UpdatePartner(b.hq, update)
	wantURLRefused(t, update.GetConnection().GetWebhookUrl(), err)

	dev := setup(t)
	if _, err := dev.ref.RegisterPartner(dev.hq, webhookPartner("NGO-DEV", "http://127.0.0.1:9000/hooks")); err != nil {
		t.Errorf("http to an allowed loopback address: %v", err)
	}
	for _, url := range []string{"http://10.0.0.1/hooks", "http://partner.example.org/hooks", "https://10.0.0.1/hooks"} {
		_, err := dev.ref.RegisterPartner(dev.hq, webhookPartner("NGO-DEV2", url))
		wantURLRefused(t, url, err)
	}
}

// A partner whose endpoint name comes to resolve to an internal address (DNS rebinding,
// played here by the name localhost written behind the registry's back) gets nothing: each
// attempt is refused at dial time and recorded as a failed delivery, retried, while the
// referral's business status stays what the caseworker made it.
func TestRefusedDialIsADeliveryFailureOnly(t *testing.T) {
	t.Parallel()
	b := setupWith(t, nil)
	reached := make(chan struct{}, 1)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
			select {
			case reached <- struct{}{}:
			default:
			}
		}
	}()
	resp, err := b.ref.RegisterPartner(b.hq, webhookPartner("NGO-REBIND", "https://hooks.partner.example.org/passage?token=s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	partner := resp.GetPartner().GetPartnerId()
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if _, err := conn.Exec(ctx, `UPDATE referral.partner SET webhook_url = $1 WHERE partner_id = $2`,
			"https://localhost:"+port+"/passage?token=s3cret", partner); err != nil {
			t.Fatal(err)
		}
	})
	c := b.registerCase(t, "NGO-REBIND")
	r := b.sent(t, c, partner)
	deadline := time.Now().Add(20 * time.Second)
	var attempts int
	for attempts < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM webhook.attempt a JOIN webhook.delivery d USING (delivery_id)
WHERE d.partner_id = $1 AND a.error = 'address refused: loopback' AND a.outcome = 'retry'`, partner).Scan(&attempts); err != nil {
				t.Fatal(err)
			}
		})
	}
	if attempts < 2 {
		t.Fatalf("%d refused attempts recorded, want at least 2 (retried)", attempts)
	}
	select {
	case <-reached:
		t.Fatal("the internal address was connected to")
	default:
	}
	got, err := b.ref.GetReferral(b.worker, &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	if err != nil || got.GetReferral().GetStatus() != referralv1.ReferralStatus_REFERRAL_STATUS_SENT || got.GetReferral().GetVersion() != r.GetVersion() {
		t.Fatalf("the referral after refused deliveries: %v, %v; want SENT at version %d", got.GetReferral(), err, r.GetVersion())
	}
	if n := b.count(t, "webhook.attempt WHERE error LIKE '%s3cret%' OR error LIKE '%localhost%'"); n != 0 {
		t.Errorf("%d attempts store the URL", n)
	}
}

// The deployment's allowance (PASSAGE_WEBHOOK_ALLOW_NETWORKS, handed to the service by
// bootstrap) opens the registry to a receiver on this machine; the service as `passage serve`
// builds it, without the variable, refuses the same URL.
func TestAllowanceComesFromTheDeployment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		allow []netip.Prefix
		ok    bool
	}{{nil, false}, {egress.Loopback(), true}} {
		env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{referral.Spec()}, WebhookAllowNetworks: tc.allow})
		_, err := referralv1.NewReferralServiceClient(env.Conn).RegisterPartner(env.As(t, auth.RoleProgrammeManager, auth.MissionHQ),
			webhookPartner("NGO-LOCAL", "http://127.0.0.1:9000/hooks"))
		if tc.ok && err != nil {
			t.Errorf("with %v allowed: %v", tc.allow, err)
		}
		if !tc.ok {
			wantURLRefused(t, "http://127.0.0.1:9000/hooks", err)
		}
	}
}
