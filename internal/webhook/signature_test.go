package webhook_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/webhook"
)

// The Standard Webhooks reference libraries' published test vector: a signature that verifies
// here verifies in every partner's off-the-shelf library.
func TestSignMatchesTheSchemesTestVector(t *testing.T) {
	t.Parallel()
	s, err := webhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got := webhook.Sign(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	s := webhook.NewSecret()
	other := webhook.NewSecret()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"1"}`)
	headers := func(id string, ts time.Time, sigs ...string) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(webhook.HeaderSignature, strings.Join(sigs, " "))
		return h
	}
	good := webhook.Sign(s, "evt_1", now, body)
	for _, tt := range []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"valid", headers("evt_1", now, good), body, nil},
		{"one of several (rotation, other schemes)", headers("evt_1", now, webhook.Sign(other, "evt_1", now, body), "v1a,AAAA", "v1,bm9wZQ==", good), body, nil},
		{"4 minutes old", headers("evt_1", now.Add(-4*time.Minute), webhook.Sign(s, "evt_1", now.Add(-4*time.Minute), body)), body, nil},
		{"6 minutes old", headers("evt_1", now.Add(-6*time.Minute), webhook.Sign(s, "evt_1", now.Add(-6*time.Minute), body)), body, webhook.ErrTimestampOutside},
		{"6 minutes ahead", headers("evt_1", now.Add(6*time.Minute), webhook.Sign(s, "evt_1", now.Add(6*time.Minute), body)), body, webhook.ErrTimestampOutside},
		{"tampered body", headers("evt_1", now, good), []byte(`{"id":"2"}`), webhook.ErrNoMatch},
		{"other id", headers("evt_2", now, good), body, webhook.ErrNoMatch},
		{"wrong secret", headers("evt_1", now, webhook.Sign(other, "evt_1", now, body)), body, webhook.ErrNoMatch},
		{"not v1", headers("evt_1", now, "v2,"+strings.TrimPrefix(good, "v1,")), body, webhook.ErrNoMatch},
		{"no signature", headers("evt_1", now), body, webhook.ErrMissingHeaders},
		{"no id", headers("", now, good), body, webhook.ErrMissingHeaders},
	} {
		if err := webhook.Verify(s, tt.h, tt.body, 0, now); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
	h := headers("evt_1", now, good)
	h.Set(webhook.HeaderTimestamp, "1e9")
	if err := webhook.Verify(s, h, body, 0, now); !errors.Is(err, webhook.ErrBadTimestamp) {
		t.Errorf("a non-integer timestamp: %v", err)
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	s := webhook.NewSecret()
	back, err := webhook.ParseSecret(s.Encode())
	if err != nil || back.Encode() != s.Encode() {
		t.Fatalf("round trip: %v", err)
	}
	if strings.Contains(s.String(), strings.TrimPrefix(s.Encode(), "whsec_")) {
		t.Error("String shows the key")
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ=",
		"whsec_" + strings.Repeat("QUFB", 22) /* 66 bytes */} {
		if _, err := webhook.ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted", bad)
		}
	}
}

func TestEventEnvelope(t *testing.T) {
	t.Parallel()
	e := webhook.Event{ID: "0b6a1f2e-4c1d-4d7e-9a6b-2f3c4d5e6f70", Source: "/passage/referral/NER",
		Type: "org.iom.passage.referral.v1.sent", Subject: "5b2f", Time: time.Date(2026, 11, 27, 5, 0, 0, 120, time.FixedZone("", 3600)),
		Data: json.RawMessage(`{"referralId":"5b2f","status":"SENT"}`)}
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"specversion": "1.0", "id": e.ID, "source": e.Source, "type": e.Type,
		"subject": "5b2f", "time": "2026-11-27T04:00:00.00000012Z", "datacontenttype": "application/json"} {
		if generic[k] != want {
			t.Errorf("%s = %v, want %v", k, generic[k], want)
		}
	}
	// data is the JSON value itself, not a string holding it.
	if d, ok := generic["data"].(map[string]any); !ok || d["status"] != "SENT" {
		t.Errorf("data = %#v", generic["data"])
	}
	var back webhook.Event
	if err := json.Unmarshal(b, &back); err != nil || back.ID != e.ID || !back.Time.Equal(e.Time) || string(back.Data) != string(e.Data) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	for name, bad := range map[string]webhook.Event{
		"dot in id":     {ID: "a.b", Source: "/s", Type: "t"},
		"no source":     {ID: "a", Type: "t"},
		"no type":       {ID: "a", Source: "/s"},
		"data not json": {ID: "a", Source: "/s", Type: "t", Data: json.RawMessage(`{`)},
		"too big":       {ID: "a", Source: "/s", Type: "t", Data: json.RawMessage(`"` + strings.Repeat("x", 70<<10) + `"`)},
	} {
		if _, err := bad.MarshalJSON(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}
