package webhook

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/egress"
)

// An endpoint that resolves to a non-public address is refused at dial time, whatever the URL
// looks like (a literal address, or a name resolving to it, as DNS rebinding would give): the
// receiver is never reached, each refusal is a failed attempt retried and in time
// dead-lettered, its stored error and its log say why, and neither holds the URL's token.
func TestNonPublicEndpointsAreRefusedAtDial(t *testing.T) {
	t.Parallel()
	clk := newClock()
	r := newReceiver(t, clk.Now, func(string, int) action { return accept })
	_, port, err := net.SplitHostPort(r.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, stored string
	}{
		{"https://127.0.0.1:" + port + "/hook?token=s3cret", "address refused: loopback"},
		{"https://localhost:" + port + "/hook?token=s3cret", "address refused: loopback"},
		{"https://[::ffff:127.0.0.1]:" + port + "/hook?token=s3cret", "address refused: loopback"},
		{"https://169.254.169.254/latest/meta-data?token=s3cret", "address refused: link-local"},
		{"https://10.0.0.1/hook?token=s3cret", "address refused: private"},
		{"https://100.64.0.1/hook?token=s3cret", "address refused: carrier-grade NAT"},
		{"https://[fd00::1]/hook?token=s3cret", "address refused: unique local (private)"},
		// Plain http goes only to an allowed network: without one, not even there.
		{"http://127.0.0.1:" + port + "/hook?token=s3cret", "endpoint url refused"},
	} {
		t.Run(tc.stored, func(t *testing.T) {
			b := setup(t)
			var logs bytes.Buffer
			w := NewWorker(b.db, endpoints{partner: b.partner, url: tc.url, secret: r.secret}, WorkerConfig{
				Now: clk.Now, Jitter: func() float64 { return 0 }, MaxAttempts: 2,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			b.queue(t, "NER", keys(1), 1)
			b.drain(t, w, clk)
			if n := b.count(t, "state = 'dead' AND attempts = 2 AND last_error = $1", tc.stored); n != 1 {
				var got string
				b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
					_ = conn.QueryRow(ctx, `SELECT state || ' ' || attempts || ' ' || coalesce(last_error, '') FROM webhook.delivery`).Scan(&got)
				})
				t.Fatalf("%s: delivery is %q, want dead after 2 attempts with %q", tc.url, got, tc.stored)
			}
			if strings.HasPrefix(tc.stored, "address refused") && !strings.Contains(logs.String(), "webhook endpoint address refused") {
				t.Errorf("no log says why:\n%s", logs.String())
			}
			for _, leak := range []string{"s3cret", "/hook", "meta-data", "localhost"} {
				if strings.Contains(logs.String(), leak) {
					t.Errorf("the log holds %q:\n%s", leak, logs.String())
				}
			}
		})
	}
	if got := r.receipts(); len(got) != 0 {
		t.Errorf("the receiver was reached: %+v", got)
	}
	r.mu.Lock()
	reached := len(r.requests) + r.bad
	r.mu.Unlock()
	if reached != 0 {
		t.Errorf("%d requests reached the receiver", reached)
	}
}

// The allowance is the worker's explicit option: with loopback allowed the same receiver gets
// its delivery over http, and a public address is still never reached over plain http.
func TestAllowNetworksIsExplicit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	b := setup(t)
	r := newReceiver(t, clk.Now, func(string, int) action { return accept })
	w := NewWorker(b.db, endpoints{partner: b.partner, url: r.srv.URL, secret: r.secret}, WorkerConfig{
		Now: clk.Now, Jitter: func() float64 { return 0 }, AllowNetworks: egress.Loopback()})
	want := b.queue(t, "NER", keys(1), 2)
	b.drain(t, w, clk)
	r.checkOnceInOrder(t, want)
	if n := b.count(t, "state = 'delivered'"); n != 2 {
		t.Errorf("%d delivered, want 2", n)
	}
	// Allowed networks do not open plain http to anything else: a public address is refused
	// before any packet leaves.
	b2 := setup(t)
	w = NewWorker(b2.db, endpoints{partner: b2.partner, url: "http://8.8.8.8:9/", secret: r.secret},
		WorkerConfig{Now: clk.Now, Jitter: func() float64 { return 0 }, MaxAttempts: 1, AllowNetworks: egress.Loopback()})
	b2.queue(t, "NER", keys(1), 1)
	b2.drain(t, w, clk)
	if n := b2.count(t, "state = 'dead' AND last_error = 'address refused: public over http'"); n != 1 {
		t.Error("plain http to a public address was not refused at dial time")
	}
}
