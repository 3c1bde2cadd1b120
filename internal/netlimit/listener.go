package netlimit

import (
	"net"
	"sync"
)

// Listen returns lis with at most max connections open at once. A connection accepted over
// the cap is closed at once and refused is called (when not nil): the client sees its
// connection reset rather than waiting in the kernel's backlog, and the process spends no
// file descriptor on it beyond that moment. A connection counts until it is closed. max <= 0
// returns lis unchanged.
func Listen(lis net.Listener, max int, refused func()) net.Listener {
	if max <= 0 {
		return lis
	}
	return &listener{Listener: lis, slots: make(chan struct{}, max), refused: refused}
}

type listener struct {
	net.Listener
	slots   chan struct{}
	refused func()
}

// Accept returns the next connection under the cap; those over it are closed here and never
// reach the server.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &conn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			// Counted before the client can see it refused.
			if l.refused != nil {
				l.refused()
			}
			if tc, ok := c.(*net.TCPConn); ok {
				// A reset frees the socket at once, with no TIME_WAIT kept for it here.
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	}
}

// conn gives its slot back when it is closed, once however often Close is called.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
