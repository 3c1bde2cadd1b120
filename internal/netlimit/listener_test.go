package netlimit_test

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/netlimit"
)

// TestListenCapsConnections checks that connections over the cap are closed as soon as they
// are accepted and counted, and that closing one (twice, even) frees exactly one slot.
func TestListenCapsConnections(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int64
	lis := netlimit.Listen(raw, 2, func() { refused.Add(1) })
	t.Cleanup(func() { _ = lis.Close() })
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()

	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	dial()
	dial()
	server1, server2 := <-accepted, <-accepted

	// The third is closed by the listener: the client reads the end of the connection
	// rather than waiting.
	wantClosed(t, raw.Addr().String())
	if got := refused.Load(); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}

	// Closing one connection twice frees one slot, not two.
	_ = server1.Close()
	_ = server1.Close()
	dial()
	server3 := <-accepted
	wantClosed(t, raw.Addr().String())
	if got := refused.Load(); got != 2 {
		t.Errorf("refused = %d, want 2", got)
	}
	_ = server2.Close()
	_ = server3.Close()
}

func TestListenWithoutCap(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	if got := netlimit.Listen(raw, 0, nil); got != raw {
		t.Errorf("Listen(lis, 0) = %T, want lis itself", got)
	}
}

// wantClosed dials addr and wants the server to close the connection, before the dial returns
// (a reset) or at the first read.
func wantClosed(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("connection over the cap: read %v, want it closed by the server", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
