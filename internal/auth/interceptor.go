package auth

import (
	"context"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/middleware"
)

// errUnauthenticated is the only thing a client learns about a refused token:
// the reason stays on the server, and the token is never echoed.
var errUnauthenticated = status.Error(codes.Unauthenticated, "missing or invalid bearer token")

// Admit decides whether an authenticated caller, whose role the Policy allows the method,
// may call at all now: the staff directory's check (internal/staffdir), which refuses a
// leaver whose token has not expired yet. It returns the status the client gets.
type Admit func(ctx context.Context, c Claims) error

// UnaryServerInterceptor authenticates every unary call with v and authorizes
// it with p and then admit (when not nil), putting the caller's Claims in the
// handler's context. Public methods (health, reflection) pass without a token.
func UnaryServerInterceptor(v Verifier, p Policy, admit Admit) grpc.UnaryServerInterceptor {
	mustVerifier(v)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authorize(ctx, v, p, admit, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming calls; the
// handler reads the Claims from stream.Context().
func StreamServerInterceptor(v Verifier, p Policy, admit Admit) grpc.StreamServerInterceptor {
	mustVerifier(v)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authorize(ss.Context(), v, p, admit, info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &authedStream{ServerStream: ss, ctx: ctx})
	}
}

// mustVerifier panics at server construction rather than letting a nil
// verifier surface as a panic on the first request.
func mustVerifier(v Verifier) {
	if v == nil {
		panic("auth: nil Verifier")
	}
}

// authorize returns ctx with the caller's Claims, or a status error.
func authorize(ctx context.Context, v Verifier, p Policy, admit Admit, method string) (context.Context, error) {
	if isPublic(method) {
		return ctx, nil
	}
	claims, err := authenticate(ctx, v, method)
	if err != nil {
		return nil, err
	}
	if !p.Allows(method, claims.Role) {
		// Role and method names are not personal data; saying which is which
		// lets a client author fix a missing grant.
		return nil, status.Errorf(codes.PermissionDenied, "role %s may not call %s", claims.Role, method)
	}
	if admit != nil {
		if err := admit(ctx, claims); err != nil {
			return nil, err
		}
	}
	return WithClaims(ctx, claims), nil
}

// authenticate verifies the bearer token in ctx's incoming metadata, for a method that is not
// public; every refusal is errUnauthenticated.
func authenticate(ctx context.Context, v Verifier, method string) (Claims, error) {
	token, ok := bearerToken(ctx)
	if !ok {
		return Claims{}, errUnauthenticated
	}
	claims, err := v.Verify(ctx, token)
	if err != nil {
		// The reason helps operators (clock skew, wrong audience); it names
		// claims, never their values, and never includes the token.
		slog.DebugContext(ctx, "auth: bearer token refused", "method", method, middleware.ErrorAttr(err))
		return Claims{}, errUnauthenticated
	}
	return claims, nil
}

// bearerToken extracts the token from a single "authorization: Bearer <jwt>"
// metadata entry. Several authorization entries are refused as ambiguous.
func bearerToken(ctx context.Context) (string, bool) {
	values := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	// The scheme name is case-insensitive (RFC 7235 section 2.1).
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authedStream carries the authenticated context to a stream handler.
type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *authedStream) Context() context.Context { return s.ctx }
