package middleware

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func TestSaneRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"A.b_C-9", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"has space", false},
		{"line\nbreak", false},
		{`quote"`, false},
		{"naïve", false},
	}
	for _, tt := range tests {
		if got := saneRequestID(tt.id); got != tt.want {
			t.Errorf("saneRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		incoming []string // x-request-id values the client sent
		wantEcho bool     // whether the client's id is kept
	}{
		{name: "client id kept", incoming: []string{"client-req.42"}, wantEcho: true},
		{name: "none sent", incoming: nil},
		{name: "unsafe characters replaced", incoming: []string{"id\nforged log line"}},
		{name: "too long replaced", incoming: []string{strings.Repeat("x", 65)}},
		{name: "ambiguous replaced", incoming: []string{"one", "two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			recorder := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
			ctx, span := tp.Tracer("test").Start(context.Background(), "rpc")
			md := metadata.MD{}
			for _, v := range tt.incoming {
				md.Append(RequestIDHeader, v)
			}
			ctx = metadata.NewIncomingContext(ctx, md)

			var inHandler string
			header, err := b.call(ctx, "/test.Svc/Get", nil, func(ctx context.Context, _ any) (any, error) {
				inHandler = RequestID(ctx)
				return nil, nil
			})
			span.End()
			if err != nil {
				t.Fatalf("call: %v", err)
			}

			id := inHandler
			if tt.wantEcho {
				if diff := cmp.Diff(tt.incoming[0], id); diff != "" {
					t.Errorf("request id (-want +got):\n%s", diff)
				}
			} else if !saneRequestID(id) || (len(tt.incoming) > 0 && id == tt.incoming[0]) {
				t.Errorf("request id = %q, want a fresh sane id", id)
			}
			if diff := cmp.Diff([]string{id}, header.Get(RequestIDHeader)); diff != "" {
				t.Errorf("response header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(id, b.record(t, "rpc")["request_id"]); diff != "" {
				t.Errorf("logged request_id (-want +got):\n%s", diff)
			}
			var onSpan []string
			for _, kv := range recorder.Ended()[0].Attributes() {
				if kv.Key == RequestIDAttribute {
					onSpan = append(onSpan, kv.Value.AsString())
				}
			}
			if diff := cmp.Diff([]string{id}, onSpan); diff != "" {
				t.Errorf("span attribute %s (-want +got):\n%s", RequestIDAttribute, diff)
			}
		})
	}
}

func TestRequestIDStream(t *testing.T) {
	t.Parallel()
	b := setup(t, ChainConfig{})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(RequestIDHeader, "stream-1"))
	ss := &fakeServerStream{}
	var inHandler string
	err := b.stream(ctx, "/test.Svc/Watch", ss, func(_ any, ss grpc.ServerStream) error {
		inHandler = RequestID(ss.Context())
		return nil
	})
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if diff := cmp.Diff("stream-1", inHandler); diff != "" {
		t.Errorf("RequestID in handler (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"stream-1"}, ss.header.Get(RequestIDHeader)); diff != "" {
		t.Errorf("response header (-want +got):\n%s", diff)
	}
}

func TestRequestIDOutsideRPC(t *testing.T) {
	t.Parallel()
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("RequestID outside an RPC = %q, want empty", got)
	}
}
