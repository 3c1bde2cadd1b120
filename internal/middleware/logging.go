package middleware

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unaryLogging writes one line per RPC when it ends.
func unaryLogging(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		returned := false
		// Deferred so that a panicking handler still gets its line; the panic itself goes on
		// to the recovery stage, which replies Internal.
		defer func() { logRPC(ctx, logger, info.FullMethod, start, returned, err) }()
		resp, err = handler(ctx, req)
		returned = true
		return resp, err
	}
}

// streamLogging writes one line per stream when it ends.
func streamLogging(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		start := time.Now()
		returned := false
		defer func() { logRPC(ss.Context(), logger, info.FullMethod, start, returned, err) }()
		err = handler(srv, ss)
		returned = true
		return err
	}
}

// healthMethodPrefix starts the methods of the gRPC health service.
const healthMethodPrefix = "/grpc.health.v1.Health/"

// logRPC logs method, code, duration, request id and caller. Deliberately absent: the
// request and response, all metadata but the request id, and the error's message, which for
// client errors may repeat what the client sent. InvalidArgument adds the offending fields'
// names from its BadRequest detail, which are schema, not data.
func logRPC(ctx context.Context, logger *slog.Logger, method string, start time.Time, returned bool, err error) {
	code := status.Code(err)
	if !returned {
		code = codes.Internal
	}
	if code == codes.OK && strings.HasPrefix(method, healthMethodPrefix) {
		// Load balancers probe every few seconds; only a failing probe is news.
		return
	}
	requestID, role, mission := scopeFrom(ctx).snapshot()
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("request_id", requestID),
	}
	if role != "" {
		attrs = append(attrs, slog.String("caller_role", role), slog.String("caller_mission", mission))
	}
	if fields := invalidFields(err); len(fields) > 0 {
		attrs = append(attrs, slog.Any("invalid_fields", fields))
	}
	logger.LogAttrs(ctx, levelFor(code), "rpc", attrs...)
}

// levelFor maps a status code to a log level: Info for success and for what the client
// got wrong, Warn for overload and timeouts, Error for our own faults.
func levelFor(code codes.Code) slog.Level {
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return slog.LevelError
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// invalidFields returns the field paths in err's BadRequest detail, if any.
func invalidFields(err error) []string {
	if status.Code(err) != codes.InvalidArgument {
		return nil
	}
	var fields []string
	for _, detail := range status.Convert(err).Details() {
		if br, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}
