package middleware

import (
	"context"
	"crypto/rand"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// RequestIDHeader is the metadata key a client may set to choose the request id, and the
// response header that carries it back.
const RequestIDHeader = "x-request-id"

// RequestIDAttribute is the span attribute holding the request id.
const RequestIDAttribute = attribute.Key("passage.request_id")

// maxRequestIDLen bounds a client-chosen id: it is copied into every log line of the call.
const maxRequestIDLen = 64

// unaryRequestID gives the RPC its request id.
func unaryRequestID() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, id := startRequest(ctx)
		// SetHeader fails only without a server transport stream in ctx (direct calls in
		// unit tests) or after headers were sent, which nothing before us does.
		_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))
		return handler(ctx, req)
	}
}

// streamRequestID gives the stream its request id.
func streamRequestID() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, id := startRequest(ss.Context())
		_ = ss.SetHeader(metadata.Pairs(RequestIDHeader, id))
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

// startRequest records the request id in ctx's scope and on its span.
func startRequest(ctx context.Context) (context.Context, string) {
	id := incomingRequestID(ctx)
	if id == "" {
		id = rand.Text()
	}
	ctx, s := withScope(ctx)
	s.setRequestID(id)
	trace.SpanFromContext(ctx).SetAttributes(RequestIDAttribute.String(id))
	return ctx, id
}

// incomingRequestID returns the client's x-request-id if it is a sane token, else "".
// Anything else is dropped rather than cleaned up: the id goes into logs verbatim.
func incomingRequestID(ctx context.Context) string {
	values := metadata.ValueFromIncomingContext(ctx, RequestIDHeader)
	if len(values) != 1 || !saneRequestID(values[0]) {
		return ""
	}
	return values[0]
}

// saneRequestID reports whether id is 1 to 64 characters of [A-Za-z0-9._-].
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
