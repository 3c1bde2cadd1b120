package referral_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// httpCall makes a real HTTP request to the gateway's listener with a partner's token and
// returns the status code and body.
func httpCall(t *testing.T, b *bundle, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.env.GatewayURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// TestPartnerIsolationOverBothTransports: partner B asking for partner A's referral, its
// data, or answering it, gets NOT_FOUND over gRPC and 404 over HTTP/JSON; A gets its own over
// both; without a token HTTP is 401, as gRPC is UNAUTHENTICATED.
func TestPartnerIsolationOverBothTransports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")
	r := b.sent(t, c, b.partnerA)
	id := r.GetReferralId()
	other := b.partner(t, b.partnerB)

	_, err := b.ref.GetReferral(other, &referralv1.GetReferralRequest{ReferralId: id})
	wantCode(t, err, codes.NotFound)
	_, err = b.ref.GetReferralData(other, &referralv1.GetReferralDataRequest{ReferralId: id, Purpose: purpose})
	wantCode(t, err, codes.NotFound)
	_, err = b.ref.AcceptReferral(other, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(), ReferralId: id, Version: r.GetVersion()})
	wantCode(t, err, codes.NotFound)
	_, err = b.ref.GetPartner(other, &referralv1.GetPartnerRequest{PartnerId: b.partnerA})
	wantCode(t, err, codes.NotFound)
	list, err := b.ref.ListReferrals(other, &referralv1.ListReferralsRequest{})
	if err != nil || len(list.GetReferrals()) != 0 {
		t.Fatalf("partner B lists %d referrals (%v)", len(list.GetReferrals()), err)
	}

	tokA, tokB := b.env.PartnerToken(t, b.partnerA), b.env.PartnerToken(t, b.partnerB)
	for _, path := range []string{"/v1/referrals/" + id, "/v1/referrals/" + id + "/data?purpose=ACCESS_PURPOSE_SERVICE_REFERRAL"} {
		if code, body := httpCall(t, b, http.MethodGet, path, tokB, nil); code != http.StatusNotFound {
			t.Errorf("GET %s as partner B: %d %s", path, code, body)
		}
	}
	if code, body := httpCall(t, b, http.MethodPost, "/v1/referrals/"+id+":accept", tokB,
		map[string]any{"requestId": uuid.NewString(), "version": r.GetVersion()}); code != http.StatusNotFound {
		t.Errorf("accept as partner B: %d %s", code, body)
	}
	if code, _ := httpCall(t, b, http.MethodGet, "/v1/referrals/"+id, "", nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	// A staff token is refused a partner-only method over HTTP as over gRPC.
	if code, _ := httpCall(t, b, http.MethodGet, "/v1/referral-events", b.env.Token(t, "caseworker", "NER"), nil); code != http.StatusForbidden {
		t.Errorf("feed as a caseworker: %d", code)
	}

	code, body := httpCall(t, b, http.MethodGet, "/v1/referrals/"+id+"/data?purpose=ACCESS_PURPOSE_SERVICE_REFERRAL", tokA, nil)
	if code != http.StatusOK {
		t.Fatalf("GET data as partner A: %d %s", code, body)
	}
	var data referralv1.GetReferralDataResponse
	if err := protojson.Unmarshal(body, &data); err != nil || data.GetPerson().GetGivenName() != "Amina" {
		t.Fatalf("data over HTTP: %v %s", err, body)
	}
	// Validation holds over HTTP: a purpose other than SERVICE_REFERRAL is a 400 naming it.
	code, body = httpCall(t, b, http.MethodGet, "/v1/referrals/"+id+"/data?purpose=ACCESS_PURPOSE_CASE_MANAGEMENT", tokA, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "purpose") {
		t.Fatalf("wrong purpose over HTTP: %d %s", code, body)
	}
	// Partner A accepts over HTTP.
	got, _ := b.ref.GetReferral(b.partner(t, b.partnerA), &referralv1.GetReferralRequest{ReferralId: id})
	code, body = httpCall(t, b, http.MethodPost, "/v1/referrals/"+id+":accept", tokA,
		map[string]any{"requestId": uuid.NewString(), "version": got.GetReferral().GetVersion(), "partnerReference": "UNHCR/1"})
	if code != http.StatusOK || !strings.Contains(string(body), "REFERRAL_STATUS_ACCEPTED") {
		t.Fatalf("accept over HTTP: %d %s", code, body)
	}
}

// TestInboundIdempotentOverHTTP: a partner's inbound referral, sent several times at once and
// again later with the same reference, is one referral; the mission accepts it over gRPC.
func TestInboundIdempotentOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.env.PartnerToken(t, b.partnerB)
	body := map[string]any{"partnerReference": "NGO-SAFE/2026/17", "mission": "NER",
		"serviceCategory": "SERVICE_CATEGORY_HEALTH", "reason": "REFERRAL_REASON_CONTINUITY_OF_CARE"}
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			code, raw := httpCall(t, b, http.MethodPost, "/v1/inbound-referrals", tok, body)
			if code != http.StatusOK {
				t.Errorf("POST inbound: %d %s", code, raw)
				return
			}
			var resp referralv1.CreateInboundReferralResponse
			if err := protojson.Unmarshal(raw, &resp); err != nil {
				t.Error(err)
				return
			}
			ids[i] = resp.GetReferral().GetReferralId()
		})
	}
	wg.Wait()
	_, raw := httpCall(t, b, http.MethodPost, "/v1/inbound-referrals", tok, body)
	var again referralv1.CreateInboundReferralResponse
	if err := protojson.Unmarshal(raw, &again); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(ids, again.GetReferral().GetReferralId()) {
		if id != ids[0] || id == "" {
			t.Fatalf("one reference made referrals %v and %s", ids, again.GetReferral().GetReferralId())
		}
	}
	if n := b.count(t, "referral.referral"); n != 1 {
		t.Fatalf("%d referrals stored, want 1", n)
	}
	r := again.GetReferral()
	if r.GetStatus() != received || r.GetDirection() != referralv1.Direction_DIRECTION_INBOUND {
		t.Fatalf("inbound: %v", r)
	}
	// The partner cannot answer its own referral; the mission does.
	_, err := b.ref.AcceptReferral(b.partner(t, b.partnerB), &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion()})
	wantCode(t, err, codes.FailedPrecondition)
	acc, err := b.ref.AcceptReferral(b.worker, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion()})
	if err != nil || acc.GetReferral().GetStatus() != accepted {
		t.Fatalf("mission accepts: %v", err)
	}
	// Another mission does not see it.
	_, err = b.ref.GetReferral(b.env.As(t, "caseworker", "MLI"), &referralv1.GetReferralRequest{ReferralId: r.GetReferralId()})
	wantCode(t, err, codes.NotFound)
	// The partner's feed tells it the mission accepted.
	events := feedOf(t, b, b.partner(t, b.partnerB), 1, 2)
	if len(events) != 2 || events[0].GetStatus() != received || events[1].GetStatus() != accepted {
		t.Fatalf("feed: %v", events)
	}
}

// TestFeedWithSharedTimestamps: a consent withdrawal withdraws several referrals in one
// transaction, whose feed events share one timestamp; read one at a time, the feed returns
// every event once, in order, and the cursor never goes back.
func TestFeedWithSharedTimestamps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.registerCase(t, "UNHCR-NER")
	for range 3 {
		b.sent(t, c, b.partnerA)
	}
	b.withdrawConsent(t, c, "UNHCR-NER")
	partner := b.partner(t, b.partnerA)
	if err := b.svc.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}

	all := feedOf(t, b, partner, 100, 6)
	one := feed(t, b, partner, 1)
	if len(one) != 6 || len(all) != 6 {
		t.Fatalf("feed one by one: %d events, all at once: %d, want 6 (3 sent, 3 withdrawn)", len(one), len(all))
	}
	seen := map[string]bool{}
	for i, e := range one {
		if e.GetEventId() != all[i].GetEventId() || seen[e.GetEventId()] {
			t.Fatalf("event %d differs or repeats: %v", i, e)
		}
		seen[e.GetEventId()] = true
	}
	last3 := one[3:]
	for _, e := range last3 {
		if e.GetStatus() != withdrawn || !e.GetTime().AsTime().Equal(last3[0].GetTime().AsTime()) {
			t.Fatalf("withdrawals: %v, want three sharing a timestamp", last3)
		}
	}
	// The cursor after the end returns nothing more, and the feed is the partner's alone.
	if other := feed(t, b, b.partner(t, b.partnerB), 10); len(other) != 0 {
		t.Fatalf("partner B's feed has %d of partner A's events", len(other))
	}
}
