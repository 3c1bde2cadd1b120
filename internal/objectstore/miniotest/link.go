package miniotest

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/objectstore"
)

// Link is a TCP proxy between a bucket's client and the test binary's MinIO that a test can
// cut, as a network partition or a stopped store would: while it is cut, every connection,
// open or new, is closed at once.
type Link struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

// LinkedBucket is Bucket reached through a Link: the bucket the server opens, and the link
// to cut.
func LinkedBucket(t testing.TB) (*objectstore.Bucket, *Link) {
	t.Helper()
	_, s := Bucket(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("miniotest: link: %v", err)
	}
	l := &Link{ln: ln, target: strings.TrimPrefix(s.Endpoint, "https://"), conns: map[net.Conn]struct{}{}}
	go l.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		l.Cut()
	})
	s.Endpoint = "https://" + ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := objectstore.Open(ctx, s, false)
	if err != nil {
		t.Fatalf("miniotest: open the bucket through the link: %v", err)
	}
	return b, l
}

// Cut closes every connection through the link, and the new ones as they come, until Mend.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		_ = c.Close()
	}
	clear(l.conns)
}

// Mend lets connections through again.
func (l *Link) Mend() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = false
}

// serve relays each connection to the server until the listener closes.
func (l *Link) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go l.relay(c)
	}
}

// relay copies c to a new connection to the server and back, both closed when either side
// ends or the link is cut.
func (l *Link) relay(c net.Conn) {
	l.mu.Lock()
	cut := l.cut
	l.mu.Unlock()
	if cut {
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", l.target)
	if err != nil {
		_ = c.Close()
		return
	}
	l.mu.Lock()
	if l.cut {
		l.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	l.conns[c], l.conns[up] = struct{}{}, struct{}{}
	l.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	<-done
	l.mu.Lock()
	delete(l.conns, c)
	delete(l.conns, up)
	l.mu.Unlock()
}
