package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// Every kind of non-public address is refused, by its embedded IPv4 address when it has one;
// public ones pass.
func TestCheck(t *testing.T) {
	t.Parallel()
	refused := map[string]string{
		"127.0.0.1":              "loopback",
		"127.255.255.254":        "loopback",
		"10.1.2.3":               "private",
		"172.16.0.1":             "private",
		"172.31.255.255":         "private",
		"192.168.1.1":            "private",
		"169.254.169.254":        "link-local", // cloud instance metadata
		"100.64.0.1":             "carrier-grade NAT",
		"100.127.255.255":        "carrier-grade NAT",
		"0.0.0.0":                "unspecified",
		"0.1.2.3":                "unspecified",
		"224.0.0.1":              "multicast",
		"239.255.255.250":        "multicast",
		"255.255.255.255":        "reserved",
		"240.0.0.1":              "reserved",
		"192.0.2.10":             "documentation",
		"198.18.0.1":             "benchmarking",
		"192.0.0.170":            "IETF protocol assignment",
		"::":                     "unspecified",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "loopback",
		"::ffff:169.254.169.254": "link-local",
		"::127.0.0.1":            "reserved", // IPv4-compatible, deprecated
		"fe80::1":                "link-local",
		"fe80::1%eth0":           "link-local",
		"fc00::1":                "unique local (private)",
		"fd12:3456:789a::1":      "unique local (private)",
		"fec0::1":                "site-local",
		"ff02::1":                "multicast",
		"64:ff9b::a9fe:a9fe":     "link-local", // NAT64 of 169.254.169.254
		"64:ff9b::7f00:1":        "loopback",
		"64:ff9b:1::1":           "local NAT64",
		"2002:7f00:1::1":         "loopback",                 // 6to4 of 127.0.0.1
		"2002:a00:1::1":          "private",                  // 6to4 of 10.0.0.1
		"2001:0:4136:e378::1":    "IETF protocol assignment", // Teredo
		"2001:db8::1":            "documentation",
		"100::1":                 "discard-only",
		"fd00:ec2::254":          "unique local (private)", // AWS metadata over IPv6
	}
	var p Policy
	for addr, kind := range refused {
		err := p.Check(netip.MustParseAddr(addr))
		var re *RefusedError
		if !errors.As(err, &re) || re.Kind != kind || !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused as %s", addr, err, kind)
		}
	}
	for _, addr := range []string{"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.32.0.1",
		"192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4007:80f::200e", "64:ff9b::808:808", "2002:808:808::1",
		"::ffff:8.8.8.8"} {
		if err := p.Check(netip.MustParseAddr(addr)); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	if err := p.Check(netip.Addr{}); !errors.Is(err, ErrRefused) {
		t.Errorf("the zero address passed: %v", err)
	}
}

// An allowed network lets its addresses through, and only them; OnlyAllowed refuses public
// addresses too.
func TestAllow(t *testing.T) {
	t.Parallel()
	nets, err := ParseNetworks(" 127.0.0.0/8, ::1 ,10.9.0.0/16,")
	if err != nil || len(nets) != 3 {
		t.Fatalf("ParseNetworks: %v, %v", nets, err)
	}
	if _, err := ParseNetworks("127.0.0.1/33"); err == nil {
		t.Error("a bad prefix was accepted")
	}
	if _, err := ParseNetworks("localhost"); err == nil {
		t.Error("a name was accepted as a network")
	}
	p := Policy{Allow: nets}
	for addr, ok := range map[string]bool{"127.0.0.1": true, "::1": true, "::ffff:127.0.0.1": true, "10.9.3.4": true,
		"10.8.0.1": false, "169.254.169.254": false, "8.8.8.8": true} {
		if err := p.Check(netip.MustParseAddr(addr)); (err == nil) != ok {
			t.Errorf("%s: %v, want allowed %v", addr, err, ok)
		}
	}
	only := p.OnlyAllowed()
	for addr, ok := range map[string]bool{"127.0.0.1": true, "10.9.3.4": true, "8.8.8.8": false, "192.168.0.1": false} {
		if err := only.Check(netip.MustParseAddr(addr)); (err == nil) != ok {
			t.Errorf("OnlyAllowed %s: %v, want allowed %v", addr, err, ok)
		}
	}
}

// A registry refuses literal non-public hosts, and names that are such an address in
// disguise; it leaves ordinary names to the dial-time check.
func TestCheckHost(t *testing.T) {
	t.Parallel()
	var p Policy
	for _, host := range []string{"127.0.0.1", "::1", "169.254.169.254", "LOCALHOST", "localhost.", "api.localhost",
		"2130706433", "0x7f.1", "0177.0.0.1", "127.1", "10.0.0.1", "fe80::1%25eth0", "[::1]"} {
		h := host
		if h == "[::1]" {
			h = "::1"
		}
		if h == "fe80::1%25eth0" {
			h = "fe80::1%eth0"
		}
		if err := p.CheckHost(h); !errors.Is(err, ErrRefused) {
			t.Errorf("%s accepted", host)
		}
	}
	for _, host := range []string{"partner.example.org", "8.8.8.8", "cafe.be", "1password.com", "2606:4700::1"} {
		if err := p.CheckHost(host); err != nil {
			t.Errorf("%s refused: %v", host, err)
		}
	}
	loop := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	if err := loop.CheckHost("localhost"); err != nil {
		t.Errorf("localhost with loopback allowed: %v", err)
	}
}

// The check runs at dial time on the resolved address: a name (localhost) that resolves to
// loopback is refused like the literal address, and the request never reaches the server.
func TestTransportRefusesAtDial(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/hook?token=s3cret"} {
		c := &http.Client{Transport: Policy{}.Transport(time.Second)}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, u, nil)
		_, err := c.Do(req)
		var re *RefusedError
		if !errors.As(err, &re) || re.Kind != "loopback" {
			t.Errorf("%s: %v, want refused as loopback", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was reached %d times", n)
	}
	allowed := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	c := &http.Client{Transport: allowed.Transport(time.Second)}
	resp, err := c.Get("http://localhost:" + port)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	_ = resp.Body.Close()
	if n := hits.Load(); n != 1 {
		t.Errorf("%d hits, want 1", n)
	}
}

// BenchmarkControl is the guard's cost per dial: `go test -run - -bench Control ./internal/egress/`.
func BenchmarkControl(b *testing.B) {
	p := Policy{Allow: Loopback()}
	for _, addr := range []string{"203.0.114.7:443", "[2a00:1450:4007:80f::200e]:443", "169.254.169.254:80"} {
		b.Run(addr, func(b *testing.B) {
			for b.Loop() {
				_ = p.Control("tcp", addr, nil)
			}
		})
	}
}
