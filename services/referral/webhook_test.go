package referral_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/webhook"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// receiver is a partner's webhook endpoint: it verifies every signature with the secret the
// registry returned once, refuses the first delivery of each event (503), and records each
// event it accepted, once per webhook-id.
type receiver struct {
	mu       sync.Mutex
	secret   webhook.Secret
	refused  map[string]bool
	accepted []webhook.Event
	seen     map[string]bool
	badSigs  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := webhook.Verify(rc.secret, r.Header, body, 5*time.Minute, time.Now()); err != nil {
		rc.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("webhook-id")
	if !rc.refused[id] {
		rc.refused[id] = true
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !rc.seen[id] {
		rc.seen[id] = true
		rc.accepted = append(rc.accepted, e)
	}
	w.WriteHeader(http.StatusNoContent)
}

// TestWebhookPartnerIsNotified: a webhook partner's secret is returned once, stored sealed;
// the mission's send and revocation reach the partner as signed, thin CloudEvents, in order,
// each once, despite a refused first attempt; the partner's own answers are not echoed back.
func TestWebhookPartnerIsNotified(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := &receiver{refused: map[string]bool{}, seen: map[string]bool{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	resp, err := b.ref.RegisterPartner(b.hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: "NGO-HOOK",
		Name: "Hook NGO", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"NER"},
		Services:   []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK, WebhookUrl: srv.URL + "/hooks"},
		Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-HOOK", StartDate: &date.Date{Year: 2024, Month: 1, Day: 1},
			ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := webhook.ParseSecret(resp.GetSigningSecret())
	if err != nil || !resp.GetPartner().GetConnection().GetHasSigningSecret() {
		t.Fatalf("signing secret: %v", err)
	}
	rc.mu.Lock()
	rc.secret = secret
	rc.mu.Unlock()
	var stored []byte
	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, `SELECT signing_secret FROM referral.partner WHERE code = 'NGO-HOOK'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
	})
	if bytes.Contains(stored, []byte(resp.GetSigningSecret())) {
		t.Fatal("the signing secret is stored in clear")
	}
	got, _ := b.ref.GetPartner(b.hq, &referralv1.GetPartnerRequest{PartnerId: resp.GetPartner().GetPartnerId()})
	if strings.Contains(got.String(), "whsec_") {
		t.Fatal("GetPartner returns the secret")
	}

	c := b.registerCase(t, "NGO-HOOK")
	r := b.sent(t, c, resp.GetPartner().GetPartnerId())
	if _, err := b.ref.RevokeReferral(b.worker, &referralv1.RevokeReferralRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion(), Reason: referralv1.RevokeReason_REVOKE_REASON_SENT_IN_ERROR}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rc.mu.Lock()
		n := len(rc.accepted)
		rc.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.badSigs != 0 || len(rc.accepted) != 2 {
		t.Fatalf("accepted %d events (bad signatures %d), want 2", len(rc.accepted), rc.badSigs)
	}
	types := []string{rc.accepted[0].Type, rc.accepted[1].Type}
	if types[0] != "org.iom.passage.referral.v1.sent" || types[1] != "org.iom.passage.referral.v1.revoked" {
		t.Fatalf("events %v, want sent then revoked", types)
	}
	for _, e := range rc.accepted {
		if e.Subject != r.GetReferralId() || strings.Contains(string(e.Data), "Amina") {
			t.Fatalf("event %v", e)
		}
	}
}
