package abuse_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestHeaderAmplification sends streams whose headers refer thousands of times to one ~4 KB
// binary header kept in the HTTP/2 header table: about 8 KB on the wire each, 15 MiB decoded.
// Each is reset before any of our code runs, the server allocates a few KiB for it, and keeps
// serving. The streams carry a valid token, so it is the header limit that stops them, not
// the authentication at the stream's opening.
func TestHeaderAmplification(t *testing.T) {
	target := start(t, serverConfig())
	c := dialH2(t, target.grpcAddr)

	const streams = 60
	const refs = 3900
	pad := hpack.HeaderField{Name: "x-pad-bin", Value: strings.Repeat("A", 4000)}
	extra := make([]hpack.HeaderField, refs)
	for i := range extra {
		extra[i] = pad
	}
	before := measure()
	for range streams {
		c.open(target.token, extra...)
	}
	answers := c.await(streams, 30*time.Second)
	during := measure() // the connection and its streams are still open
	for id, e := range answers {
		if !e.isRST && e.grpcStatus == "" {
			t.Errorf("stream %d: answer %+v, want a reset", id, e)
		}
	}
	perStream := (during.allocated - before.allocated) / streams
	t.Logf("%d streams of %d MiB decoded headers: %d KiB allocated per stream, live heap %+d KiB",
		streams, refs*pad.Size()/mib, perStream>>10, (int64(during.live)-int64(before.live))>>10)
	if perStream > mib {
		t.Errorf("%d KiB allocated per stream, want at most 1 MiB", perStream>>10)
	}
	if grew := int64(during.live) - int64(before.live); grew > 4*mib {
		t.Errorf("live heap grew by %d KiB under the attack, want at most 4 MiB", grew>>10)
	}
	checkServing(t, target)
}

// TestStreamFlood opens ten times more streams than MaxConcurrentStreams on one connection,
// each with headers only and a valid token (so that each would hold a handler waiting for its
// message): the excess is refused, and the server's goroutines stay within the limit.
func TestStreamFlood(t *testing.T) {
	cfg := serverConfig()
	target := start(t, cfg)
	c := dialH2(t, target.grpcAddr)

	streams := 10 * cfg.MaxConcurrentStreams
	goroutines := runtime.NumGoroutine()
	before := measure()
	for range streams {
		c.open(target.token)
	}
	answers := c.await(streams-cfg.MaxConcurrentStreams, 30*time.Second)
	refused := 0
	for _, e := range answers {
		if e.isRST && e.rst == http2.ErrCodeRefusedStream {
			refused++
		}
	}
	after := measure()
	grew := runtime.NumGoroutine() - goroutines
	t.Logf("%d streams on one connection: %d refused, %d goroutines more, %d KiB allocated per stream, live heap %+d KiB",
		streams, refused, grew, (after.allocated-before.allocated)/uint64(streams)>>10, (int64(after.live)-int64(before.live))>>10)
	if want := streams - cfg.MaxConcurrentStreams; refused != want {
		t.Errorf("%d streams refused, want %d", refused, want)
	}
	// A handler per open stream, and the connection's own few.
	if limit := cfg.MaxConcurrentStreams + 16; grew > limit {
		t.Errorf("%d goroutines more under the flood, want at most %d", grew, limit)
	}
	checkServing(t, target)
}

// TestUnauthenticatedFlood opens many header-only streams without a token: each is refused
// UNAUTHENTICATED when it opens, none gets a handler.
func TestUnauthenticatedFlood(t *testing.T) {
	cfg := serverConfig()
	target := start(t, cfg)
	c := dialH2(t, target.grpcAddr)

	const streams = 2000
	goroutines := runtime.NumGoroutine()
	for range streams {
		c.open("")
	}
	answers := c.await(streams, 30*time.Second)
	grew := runtime.NumGoroutine() - goroutines
	refused := 0
	for _, e := range answers {
		if e.grpcStatus == fmt.Sprint(int(codes.Unauthenticated)) {
			refused++
		}
	}
	t.Logf("%d streams without a token: %d refused UNAUTHENTICATED, %d goroutines more", streams, refused, grew)
	if refused != streams {
		t.Errorf("%d streams refused UNAUTHENTICATED, want %d", refused, streams)
	}
	if grew > 16 {
		t.Errorf("%d goroutines more, want at most 16", grew)
	}
	checkServing(t, target)
}

// TestLargeMessagesBeforeAuthentication sends 100 concurrent 1 MiB requests without a token,
// or with a forged one: each is refused UNAUTHENTICATED from its headers, before its message
// is read, so the server allocates a small part of the 100 MiB sent.
func TestLargeMessagesBeforeAuthentication(t *testing.T) {
	cfg := serverConfig()
	target := start(t, cfg)
	conn, err := grpc.NewClient(target.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	// One message for every call, handed to grpc without a copy: what the client allocates
	// stays small, so the measure is the server's.
	message := make([]byte, cfg.MaxRecvMsgBytes)

	const calls = 100
	before := measure()
	var wg sync.WaitGroup
	codesSeen := make([]codes.Code, calls)
	for i := range calls {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if i%2 == 1 {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer forged.token.value")
			}
			err := conn.Invoke(ctx, method, message, new(struct{}), grpc.ForceCodecV2(rawCodec{}))
			codesSeen[i] = status.Code(err)
		})
	}
	wg.Wait()
	after := measure()
	for i, c := range codesSeen {
		if c != codes.Unauthenticated {
			t.Errorf("call %d: %v, want Unauthenticated", i, c)
		}
	}
	allocated := after.allocated - before.allocated
	t.Logf("%d requests of %d MiB without a valid token: %d KiB allocated in all, live heap %+d KiB",
		calls, cfg.MaxRecvMsgBytes/mib, allocated>>10, (int64(after.live)-int64(before.live))>>10)
	if sent := uint64(calls * cfg.MaxRecvMsgBytes); allocated > sent/8 {
		t.Errorf("%d MiB allocated for %d MiB of refused requests, want at most an eighth", allocated/mib, sent/mib)
	}
	checkServing(t, target)
}

// rawCodec sends a []byte as the message, without a copy.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (rawCodec) Unmarshal(mem.BufferSlice, any) error { return nil }
func (rawCodec) Name() string                         { return "proto" }

// checkServing checks that a well-behaved client is still served after an attack: a health
// check, and a valid token's call reaches the service.
func checkServing(t *testing.T, target *target) {
	t.Helper()
	conn, err := grpc.NewClient(target.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check after the attack: %v", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+target.token)
	// An empty request passes authentication and authorization and stops at validation.
	err = conn.Invoke(ctx, method, []byte{}, new(struct{}), grpc.ForceCodecV2(rawCodec{}))
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("call with a valid token after the attack: %v, want InvalidArgument from validation", err)
	}
}
