package abuse_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/gateway"
	"github.com/passage-cm/passage/internal/server"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// method is the call the attacks aim at: a partner's, with an HTTP binding on the gateway.
const method = "/passage.referral.v1.ReferralService/CreateInboundReferral"

// target is one running server: gRPC, probes and the partner gateway on loopback listeners.
type target struct {
	cfg         server.Config
	grpcAddr    string
	httpURL     string // probes and metrics
	gatewayAddr string
	token       string // a partner's valid token
}

// start runs a server with cfg (zero fields take their defaults) until the test ends.
//
// Not internal/testserver: these attacks are on the transport internal/server builds (raw
// HTTP/2 frames, connection and header floods, slow readers), so they need real TCP listeners
// for gRPC, the probes and the gateway, a server.Config of their own, and nothing behind the
// call (a stub service, no database) that would blur what the server itself holds in memory.
func start(t *testing.T, cfg server.Config) *target {
	t.Helper()
	_, signer, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	token, err := auth.MintToken(signer, auth.DevIssuer, auth.Audience,
		auth.Claims{Subject: "partner-agency", Role: auth.RolePartner, Partner: "6f1c2b7e-3a4d-4e5f-8a9b-0c1d2e3f4a5b"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ShutdownGrace = time.Second
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler), server.Options{
		// As bootstrap builds it: cached, so the tap's verification is the interceptor's.
		Verifier: auth.Cached(auth.NewKeyVerifier(signer.Public(), auth.DevIssuer, auth.Audience), 1024),
		Policy:   auth.Policy{method: {auth.RolePartner}},
	})
	if err != nil {
		t.Fatal(err)
	}
	referralv1.RegisterReferralServiceServer(srv.GRPC(), referralv1.UnimplementedReferralServiceServer{})
	grpcLis, httpLis, gwLis := listen(t), listen(t), listen(t)

	ctx, cancel := context.WithCancel(context.Background())
	gw, err := gateway.New(ctx, srv.GRPC(), referralv1.RegisterReferralServiceHandler)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { done <- srv.RunOn(ctx, grpcLis, httpLis) }()
	capped := srv.LimitListener(gwLis, "partner")
	go func() { done <- gw.Serve(ctx, capped, nil, cfg.HTTPLimits(), time.Second) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("server stopped with %v", err)
			}
		}
	})
	return &target{cfg: cfg, grpcAddr: grpcLis.Addr().String(), httpURL: "http://" + httpLis.Addr().String(),
		gatewayAddr: gwLis.Addr().String(), token: token}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}

// memory is what the process has allocated in all and holds live.
type memory struct {
	allocated, live uint64
}

// measure collects garbage and reads the process's memory statistics.
func measure() memory {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{allocated: m.TotalAlloc, live: m.HeapAlloc}
}

const mib = 1 << 20

// h2 is a raw HTTP/2 client connection: it writes the frames an attacker chooses, not what a
// well-behaved client (grpc-go's, net/http's) would, and reports what the server answers.
type h2 struct {
	t    *testing.T
	conn net.Conn

	mu     sync.Mutex // writes
	fr     *http2.Framer
	hbuf   bytes.Buffer
	enc    *hpack.Encoder
	nextID uint32

	events chan event // closed when the connection ends
}

// event is the server's answer on a stream: its status (trailers) or a reset, or the end of
// the connection (stream 0).
type event struct {
	stream     uint32
	grpcStatus string        // from a HEADERS frame
	rst        http2.ErrCode // from RST_STREAM
	isRST      bool
	goAway     bool
}

// dialH2 opens an HTTP/2 connection in the clear to addr, answering the server's SETTINGS and
// PINGs; the connection closes when the test ends.
func dialH2(t *testing.T, addr string) *h2 {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &h2{t: t, conn: conn, fr: http2.NewFramer(conn, conn), nextID: 1, events: make(chan event, 8192)}
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	go c.read()
	t.Cleanup(func() { _ = conn.Close() })
	return c
}

func (c *h2) read() {
	defer close(c.events)
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.write(func() error { return c.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		case *http2.MetaHeadersFrame:
			if s := f.PseudoValue("status"); s != "" || f.StreamEnded() {
				if gs := headerValue(f, "grpc-status"); gs != "" {
					c.events <- event{stream: f.StreamID, grpcStatus: gs}
				}
			}
		case *http2.RSTStreamFrame:
			c.events <- event{stream: f.StreamID, rst: f.ErrCode, isRST: true}
		case *http2.GoAwayFrame:
			c.events <- event{goAway: true}
		}
	}
}

func headerValue(f *http2.MetaHeadersFrame, name string) string {
	for _, hf := range f.Fields {
		if hf.Name == name {
			return hf.Value
		}
	}
	return ""
}

func (c *h2) write(w func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = w()
}

// open starts a gRPC call to method with extra headers (after the token, when token is not
// empty), without a message and without ending the stream: the server waits for the message.
func (c *h2) open(token string, extra ...hpack.HeaderField) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextID
	c.nextID += 2
	c.hbuf.Reset()
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: method},
		{Name: ":authority", Value: "passage.test"}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}
	if token != "" {
		fields = append(fields, hpack.HeaderField{Name: "authorization", Value: "Bearer " + token})
	}
	for _, f := range append(fields, extra...) {
		if err := c.enc.WriteField(f); err != nil {
			c.t.Fatal(err)
		}
	}
	block := c.hbuf.Bytes()
	const chunk = 16 << 10 // the default SETTINGS_MAX_FRAME_SIZE
	first := block[:min(len(block), chunk)]
	block = block[len(first):]
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndHeaders: len(block) == 0}); err != nil {
		c.t.Fatalf("write headers: %v", err)
	}
	for len(block) > 0 {
		part := block[:min(len(block), chunk)]
		block = block[len(part):]
		if err := c.fr.WriteContinuation(id, len(block) == 0, part); err != nil {
			c.t.Fatalf("write continuation: %v", err)
		}
	}
	return id
}

// await collects the server's answers until want streams have one or the connection ends;
// a stream's first answer counts (a status is followed by a reset).
func (c *h2) await(want int, timeout time.Duration) map[uint32]event {
	c.t.Helper()
	got := make(map[uint32]event, want)
	deadline := time.After(timeout)
	for len(got) < want {
		select {
		case e, ok := <-c.events:
			if !ok {
				return got
			}
			if e.goAway {
				c.t.Errorf("server sent GOAWAY after %d answers", len(got))
				continue
			}
			if _, seen := got[e.stream]; !seen {
				got[e.stream] = e
			}
		case <-deadline:
			c.t.Fatalf("%d answers after %v, want %d", len(got), timeout, want)
		}
	}
	return got
}

// serverConfig is the configuration the attacks meet: the defaults, with the HTTP read
// timeout and the connection cap lowered so that tests stay short and small.
func serverConfig() server.Config {
	cfg := server.DefaultConfig()
	cfg.HTTPReadTimeout = 2 * time.Second
	cfg.MaxConnections = 16
	return cfg
}
