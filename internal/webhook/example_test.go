package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/passage-cm/passage/internal/webhook"
)

// A partner's receiver: verify the raw body before parsing it, drop a webhook-id already
// processed, answer 2xx quickly.
func ExampleVerify() {
	secret := webhook.NewSecret() // in real life: webhook.ParseSecret("whsec_...") as Passage gave it
	seen := map[string]bool{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := webhook.Verify(secret, r.Header, body, webhook.DefaultTolerance, time.Now()); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if id := r.Header.Get(webhook.HeaderID); !seen[id] {
			seen[id] = true
			fmt.Println("new event", id)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What Passage's worker sends, twice (a retry keeps the webhook-id).
	body := []byte(`{"specversion":"1.0","id":"evt_1","source":"/passage/referral/NER","type":"org.iom.passage.referral.v1.sent","datacontenttype":"application/json","data":{}}`)
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/hooks/passage", strings.NewReader(string(body)))
		now := time.Now()
		req.Header.Set(webhook.HeaderID, "evt_1")
		req.Header.Set(webhook.HeaderTimestamp, fmt.Sprint(now.Unix()))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, "evt_1", now, body))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// new event evt_1
	// 204
	// 204
}
