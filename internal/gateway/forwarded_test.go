package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFromForwardedFor: the server behind the proxy sees the address the proxy appended last,
// whatever X-Forwarded-For the partner sent before it.
func TestFromForwardedFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values []string
		want   string
	}{
		{[]string{"203.0.113.9"}, "203.0.113.9:0"},
		{[]string{"10.0.0.1, 192.0.2.1, 203.0.113.9"}, "203.0.113.9:0"},
		{[]string{"10.0.0.1", "2001:db8::7"}, "[2001:db8::7]:0"},
		{[]string{"203.0.113.9, not-an-address"}, "bufconn"},
		{nil, "bufconn"},
	}
	for _, tt := range tests {
		var got string
		h := fromForwardedFor(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
		r := httptest.NewRequest(http.MethodPost, "/passage.referral.v1.ReferralService/ListReferrals", nil)
		r.RemoteAddr = "bufconn"
		for _, v := range tt.values {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want {
			t.Errorf("X-Forwarded-For %q: RemoteAddr %q, want %q", tt.values, got, tt.want)
		}
	}
}
