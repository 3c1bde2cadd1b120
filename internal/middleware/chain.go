package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
)

// ChainConfig is what [Chain] needs from the server.
type ChainConfig struct {
	// Logger receives the RPC lines, recovered panics and masked causes. Required.
	Logger *slog.Logger
	// AuthUnary and AuthStream authenticate and authorise each call. Both or neither:
	// without them the chain has no auth stage, which only tests should want.
	AuthUnary  grpc.UnaryServerInterceptor
	AuthStream grpc.StreamServerInterceptor
	// Caller reports the role and mission the auth stage established in ctx, for the RPC's
	// log line. Optional; it is called after auth and before validation.
	Caller func(ctx context.Context) (role, mission string, ok bool)
	// Quota, when its Limiter is set, limits unauthenticated calls per source address (a
	// stage just outside auth) and authenticated ones per caller and class (a stage just
	// inside it); see internal/quota. It needs the auth stage.
	Quota QuotaConfig
}

// Chain builds the unary and stream interceptor chains in the order documented on the
// package, as two server options to pass to grpc.NewServer. Build it once per server.
func Chain(cfg ChainConfig) ([]grpc.ServerOption, error) {
	if cfg.Logger == nil {
		return nil, errors.New("middleware: ChainConfig.Logger is required")
	}
	if (cfg.AuthUnary == nil) != (cfg.AuthStream == nil) {
		return nil, errors.New("middleware: set both AuthUnary and AuthStream, or neither")
	}
	if q := cfg.Quota; q.Limiter != nil && (q.Public == nil || q.Subject == nil || cfg.AuthUnary == nil) {
		return nil, errors.New("middleware: Quota needs its Public and Subject, and the auth stage")
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("middleware: protovalidate: %w", err)
	}

	unary, stream := interceptors(cfg, validator)
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, nil
}

// interceptors lists the stages in their documented order, outermost first.
func interceptors(cfg ChainConfig, validator protovalidate.Validator) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	unary := []grpc.UnaryServerInterceptor{
		unaryRecovery(cfg.Logger),
		unaryRequestID(),
		unaryLogging(cfg.Logger),
		unaryErrorMasking(cfg.Logger),
	}
	stream := []grpc.StreamServerInterceptor{
		streamRecovery(cfg.Logger),
		streamRequestID(),
		streamLogging(cfg.Logger),
		streamErrorMasking(cfg.Logger),
	}
	quota := cfg.Quota.Limiter != nil
	if quota {
		unary = append(unary, unaryAddressQuota(cfg.Quota))
		stream = append(stream, streamAddressQuota(cfg.Quota))
	}
	if cfg.AuthUnary != nil {
		unary = append(unary, cfg.AuthUnary)
		stream = append(stream, cfg.AuthStream)
	}
	if cfg.Caller != nil {
		unary = append(unary, unaryCaller(cfg.Caller))
		stream = append(stream, streamCaller(cfg.Caller))
	}
	if quota {
		unary = append(unary, unaryCallerQuota(cfg.Quota))
		stream = append(stream, streamCallerQuota(cfg.Quota))
	}
	unary = append(unary, unaryValidation(validator))
	stream = append(stream, streamValidation(validator))
	return unary, stream
}

// unaryCaller records the authenticated caller for the logging stage.
func unaryCaller(caller func(context.Context) (string, string, bool)) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		recordCaller(ctx, caller)
		return handler(ctx, req)
	}
}

// streamCaller records the authenticated caller for the logging stage.
func streamCaller(caller func(context.Context) (string, string, bool)) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		recordCaller(ss.Context(), caller)
		return handler(srv, ss)
	}
}

func recordCaller(ctx context.Context, caller func(context.Context) (string, string, bool)) {
	s := scopeFrom(ctx)
	if s == nil {
		return
	}
	if role, mission, ok := caller(ctx); ok {
		s.setCaller(role, mission)
	}
}
