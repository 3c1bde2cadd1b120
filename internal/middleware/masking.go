package middleware

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unaryErrorMasking replaces internal errors with a fixed message; see [maskError].
func unaryErrorMasking(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			err = maskError(ctx, logger, info.FullMethod, err)
		}
		return resp, err
	}
}

// streamErrorMasking replaces internal errors with a fixed message; see [maskError].
func streamErrorMasking(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if err != nil {
			err = maskError(ss.Context(), logger, info.FullMethod, err)
		}
		return err
	}
}

// maskError decides what the client sees of err:
//   - a status with a client-facing code passes unchanged; when it is wrapped, the wrapping
//     text is dropped, because grpc would otherwise send err.Error() as the message;
//   - an error caused by the call's own context ending becomes Canceled or DeadlineExceeded,
//     which is the caller's doing, not a fault to log;
//   - anything else (a plain error, or Unknown, Internal, DataLoss) is logged with its cause
//     and becomes Internal "internal error (request id …)".
func maskError(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if se, ok := errors.AsType[statusError](err); ok {
		if st := se.GRPCStatus(); st != nil && !isServerFault(st.Code()) {
			return st.Err()
		}
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return status.FromContextError(ctx.Err()).Err()
	}
	id := RequestID(ctx)
	logger.LogAttrs(ctx, slog.LevelError, "internal error",
		slog.String("method", method),
		slog.String("request_id", id),
		ErrorAttr(err),
	)
	return status.Errorf(codes.Internal, "internal error (request id %s)", id)
}

// statusError is an error carrying a gRPC status, as status.Error returns.
type statusError interface {
	error
	GRPCStatus() *status.Status
}

// isServerFault reports whether code says the server failed, so its message is not for the
// client's eyes.
func isServerFault(code codes.Code) bool {
	switch code {
	case codes.OK, codes.Unknown, codes.Internal, codes.DataLoss:
		// OK with a non-nil error is a bug in whoever built it.
		return true
	default:
		return false
	}
}
