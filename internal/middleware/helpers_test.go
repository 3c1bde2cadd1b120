package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// bundle runs requests through the real interceptor chain, in its real order, without a
// network, capturing what the chain logs and the response headers it sets.
type bundle struct {
	logs  *syncBuffer
	unary []grpc.UnaryServerInterceptor
	strm  []grpc.StreamServerInterceptor
}

func setup(t *testing.T, cfg ChainConfig) *bundle {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := protovalidate.New()
	if err != nil {
		t.Fatalf("protovalidate.New: %v", err)
	}
	unary, stream := interceptors(cfg, v)
	return &bundle{logs: logs, unary: unary, strm: stream}
}

// call runs one unary RPC for method through the chain to handler and returns the response
// header the chain set and the error the client would get.
func (b *bundle) call(ctx context.Context, method string, req any, handler grpc.UnaryHandler) (metadata.MD, error) {
	ts := &fakeTransportStream{method: method}
	ctx = grpc.NewContextWithServerTransportStream(ctx, ts)
	info := &grpc.UnaryServerInfo{FullMethod: method}
	next := handler
	for i := len(b.unary) - 1; i >= 0; i-- {
		interceptor, inner := b.unary[i], next
		next = func(ctx context.Context, req any) (any, error) { return interceptor(ctx, req, info, inner) }
	}
	_, err := next(ctx, req)
	return ts.header, err
}

// stream runs one streaming RPC through the chain to handler.
func (b *bundle) stream(ctx context.Context, method string, ss *fakeServerStream, handler grpc.StreamHandler) error {
	ss.ctx = ctx
	info := &grpc.StreamServerInfo{FullMethod: method, IsClientStream: true, IsServerStream: true}
	next := handler
	for i := len(b.strm) - 1; i >= 0; i-- {
		interceptor, inner := b.strm[i], next
		next = func(srv any, ss grpc.ServerStream) error { return interceptor(srv, ss, info, inner) }
	}
	return next(nil, ss)
}

// records parses the JSON log lines.
func (b *bundle) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// record returns the only log record with message msg.
func (b *bundle) record(t *testing.T, msg string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, rec := range b.records(t) {
		if rec["msg"] == msg {
			found = append(found, rec)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %q log record, got %d in:\n%s", msg, len(found), b.logs.String())
	}
	return found[0]
}

// fakeTransportStream captures the headers a unary interceptor sets.
type fakeTransportStream struct {
	method string
	header metadata.MD
}

func (s *fakeTransportStream) Method() string { return s.method }
func (s *fakeTransportStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}
func (s *fakeTransportStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }
func (s *fakeTransportStream) SetTrailer(metadata.MD) error    { return nil }

// fakeServerStream hands the handler a fixed sequence of messages.
type fakeServerStream struct {
	grpc.ServerStream
	ctx    context.Context
	recv   []func(m any)
	header metadata.MD
}

func (s *fakeServerStream) Context() context.Context { return s.ctx }
func (s *fakeServerStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}
func (s *fakeServerStream) RecvMsg(m any) error {
	if len(s.recv) == 0 {
		return context.Canceled
	}
	s.recv[0](m)
	s.recv = s.recv[1:]
	return nil
}

// syncBuffer is a bytes.Buffer safe to write from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
