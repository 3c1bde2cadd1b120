package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errPanicked is what a client receives when its handler panicked. The request id is in
// the x-request-id response header.
var errPanicked = status.Error(codes.Internal, "internal error")

// unaryRecovery turns a panic below it into codes.Internal.
func unaryRecovery(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		ctx, s := withScope(ctx)
		defer func() {
			if r := recover(); r != nil {
				logPanic(ctx, logger, info.FullMethod, s, r)
				resp, err = nil, errPanicked
			}
		}()
		return handler(ctx, req)
	}
}

// streamRecovery turns a panic below it into codes.Internal.
func streamRecovery(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		ctx, s := withScope(ss.Context())
		defer func() {
			if r := recover(); r != nil {
				logPanic(ctx, logger, info.FullMethod, s, r)
				err = errPanicked
			}
		}()
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

// logPanic logs the panic's type and the stack, not the panic's value: a handler may panic
// with anything, including a value built from the request.
func logPanic(ctx context.Context, logger *slog.Logger, method string, s *scope, r any) {
	requestID, _, _ := s.snapshot()
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("request_id", requestID),
		slog.String("panic_type", fmt.Sprintf("%T", r)),
	}
	// Runtime errors (nil dereference, index out of range) are raised by the Go runtime
	// with fixed messages that carry at most numbers, and they say what went wrong.
	if re, ok := r.(runtime.Error); ok {
		attrs = append(attrs, slog.String("panic_runtime_error", re.Error()))
	}
	attrs = append(attrs, slog.String("stack", string(debug.Stack())))
	logger.LogAttrs(ctx, slog.LevelError, "panic in rpc", attrs...)
}
