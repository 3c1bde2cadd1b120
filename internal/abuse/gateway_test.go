package abuse_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestSlowBodies fills the partner gateway's connection cap with requests whose bodies come a
// byte at a time. A connection over the cap is closed as soon as it is accepted, the probe
// server still answers /healthz, each slow connection is closed within the read timeout (with
// a generous margin), and afterwards the gateway serves again.
func TestSlowBodies(t *testing.T) {
	cfg := serverConfig()
	target := start(t, cfg)
	limits := cfg.HTTPLimits()

	type slow struct {
		conn   net.Conn
		opened time.Time
		closed chan time.Duration // how long after opening the server closed it
	}
	slows := make([]*slow, cfg.MaxConnections)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range slows {
		conn, err := net.Dial("tcp", target.gatewayAddr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		s := &slow{conn: conn, opened: time.Now(), closed: make(chan time.Duration, 1)}
		slows[i] = s
		head := fmt.Sprintf("POST /v1/inbound-referrals HTTP/1.1\r\nHost: passage.test\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n", target.token)
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { // one byte of the body every 500 ms, until the server hangs up
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte{' '}); err != nil {
						return
					}
				}
			}
		})
		wg.Go(func() { // whatever the server answers, until it closes the connection
			_, _ = io.Copy(io.Discard, conn)
			s.closed <- time.Since(s.opened)
		})
	}

	// Over the cap: closed at once, where an accepted connection that sends nothing would wait
	// for the header timeout.
	// The reset may come before the dial returns.
	if extra, err := net.Dial("tcp", target.gatewayAddr); err == nil {
		defer extra.Close()
		_ = extra.SetReadDeadline(time.Now().Add(limits.ReadHeaderTimeout / 2))
		if _, err := extra.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("connection over the cap: read %v, want it closed by the server", err)
		}
	}

	// The probes have a listener of their own.
	resp, err := http.Get(target.httpURL + "/healthz")
	if err != nil {
		t.Errorf("/healthz while the gateway is full: %v", err)
	} else {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz while the gateway is full: %d", resp.StatusCode)
		}
	}
	checkServing(t, target)

	bound := 5 * limits.ReadTimeout
	deadline := time.NewTimer(time.Until(slows[0].opened.Add(bound)))
	defer deadline.Stop()
	var longest time.Duration
	open := 0
	for _, s := range slows {
		select {
		case d := <-s.closed:
			longest = max(longest, d)
		case <-deadline.C:
			open = len(slows) // counted below
		}
		if open > 0 {
			break
		}
	}
	if open > 0 {
		open = 0
		for _, s := range slows {
			select {
			case d := <-s.closed:
				longest = max(longest, d)
			default:
				open++
			}
		}
		t.Errorf("%d of %d slow connections still open %v after the first opened (read timeout %v)", open, len(slows), bound, limits.ReadTimeout)
	}
	close(stop)
	for _, s := range slows {
		_ = s.conn.Close() // those the server failed to close
	}
	wg.Wait()
	t.Logf("%d slow bodies: all closed, the last %v after it opened (read timeout %v); one connection over the cap closed at once",
		len(slows), longest.Round(10*time.Millisecond), limits.ReadTimeout)

	// The cap's slots came back: a partner is served again.
	req, err := http.NewRequest(http.MethodGet, "http://"+target.gatewayAddr+"/v1/referrals", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+target.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("gateway after the slow bodies: %v", err)
	}
	_ = resp.Body.Close()
	// The partner may not list referrals (no policy entry): the answer comes from the chain.
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("gateway after the slow bodies: status %d, want 403 from the policy", resp.StatusCode)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
