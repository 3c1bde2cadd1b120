package middleware

import (
	"context"
	"sync"

	"google.golang.org/grpc"
)

// scope is the per-RPC state the stages share. It is created by the outermost stage and
// filled in by inner ones, so outer stages (recovery, logging) can read what inner ones
// learned (the request id, the caller) after the handler returns or panics.
type scope struct {
	mu        sync.Mutex
	requestID string
	role      string
	mission   string
}

type scopeKey struct{}

// withScope returns ctx carrying a scope, reusing one already there.
func withScope(ctx context.Context) (context.Context, *scope) {
	if s := scopeFrom(ctx); s != nil {
		return ctx, s
	}
	s := &scope{}
	return context.WithValue(ctx, scopeKey{}, s), s
}

// scopeFrom returns ctx's scope, or nil outside the chain.
func scopeFrom(ctx context.Context) *scope {
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s
}

func (s *scope) setRequestID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestID = id
}

func (s *scope) setCaller(role, mission string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.role, s.mission = role, mission
}

// snapshot returns the scope's fields; it is nil-safe so callers outside the chain get "".
func (s *scope) snapshot() (requestID, role, mission string) {
	if s == nil {
		return "", "", ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestID, s.role, s.mission
}

// RequestID returns the id of the RPC ctx belongs to, or "" outside an RPC.
func RequestID(ctx context.Context) string {
	id, _, _ := scopeFrom(ctx).snapshot()
	return id
}

// serverStream overrides the context of a grpc.ServerStream, the stream counterpart of
// passing a new ctx to the next unary handler.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }
