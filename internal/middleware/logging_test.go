package middleware

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/rpcerr"
)

func TestLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handlerFn func(context.Context, any) (any, error)
		caller    bool
		want      map[string]any
	}{
		{
			name:      "ok",
			handlerFn: func(context.Context, any) (any, error) { return nil, nil },
			want:      map[string]any{"level": "INFO", "msg": "rpc", "method": "/test.Svc/Get", "code": "OK", "request_id": "req-1"},
		},
		{
			name:      "authenticated caller",
			caller:    true,
			handlerFn: func(context.Context, any) (any, error) { return nil, nil },
			want: map[string]any{
				"level": "INFO", "msg": "rpc", "method": "/test.Svc/Get", "code": "OK", "request_id": "req-1",
				"caller_role": "caseworker", "caller_mission": "NER",
			},
		},
		{
			name: "client error logs the code, not the text",
			handlerFn: func(context.Context, any) (any, error) {
				return nil, status.Error(codes.NotFound, "no case for Amina Haddad")
			},
			want: map[string]any{"level": "INFO", "msg": "rpc", "method": "/test.Svc/Get", "code": "NotFound", "request_id": "req-1"},
		},
		{
			name: "invalid argument logs field names only",
			handlerFn: func(context.Context, any) (any, error) {
				return nil, rpcerr.InvalidArgument(
					rpcerr.FieldViolation("principal.given_name", "Amina Haddad is on a watch list"),
					rpcerr.FieldViolation("household_members[1].date_of_birth", "must not be in the future"),
				)
			},
			want: map[string]any{
				"level": "INFO", "msg": "rpc", "method": "/test.Svc/Get", "code": "InvalidArgument", "request_id": "req-1",
				"invalid_fields": []any{"principal.given_name", "household_members[1].date_of_birth"},
			},
		},
		{
			name: "overload is a warning",
			handlerFn: func(context.Context, any) (any, error) {
				return nil, status.Error(codes.ResourceExhausted, "too many exports")
			},
			want: map[string]any{"level": "WARN", "msg": "rpc", "method": "/test.Svc/Get", "code": "ResourceExhausted", "request_id": "req-1"},
		},
		{
			name: "our fault is an error",
			handlerFn: func(context.Context, any) (any, error) {
				return nil, status.Error(codes.DataLoss, "checksum")
			},
			want: map[string]any{"level": "ERROR", "msg": "rpc", "method": "/test.Svc/Get", "code": "Internal", "request_id": "req-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ChainConfig{}
			if tt.caller {
				cfg.Caller = func(context.Context) (string, string, bool) { return "caseworker", "NER", true }
			}
			b := setup(t, cfg)
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(
				RequestIDHeader, "req-1",
				"authorization", "Bearer secret-token",
				"x-client-note", "Amina Haddad",
			))
			_, _ = b.call(ctx, "/test.Svc/Get", nil, tt.handlerFn)

			rec := b.record(t, "rpc")
			if _, ok := rec["duration_ms"].(float64); !ok {
				t.Errorf("duration_ms = %#v, want a number", rec["duration_ms"])
			}
			delete(rec, "duration_ms")
			delete(rec, "time")
			if diff := cmp.Diff(tt.want, rec); diff != "" {
				t.Errorf("rpc log record (-want +got):\n%s", diff)
			}
			for _, secret := range []string{"Amina", "secret-token", "watch list"} {
				if strings.Contains(b.logs.String(), secret) {
					t.Errorf("logs contain %q:\n%s", secret, b.logs.String())
				}
			}
		})
	}
}

func TestLoggingSkipsSuccessfulHealthChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		wantLog bool
	}{
		{name: "serving", err: nil, wantLog: false},
		{name: "failing", err: status.Error(codes.NotFound, "unknown service"), wantLog: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			_, _ = b.call(context.Background(), "/grpc.health.v1.Health/Check", nil, func(context.Context, any) (any, error) {
				return nil, tt.err
			})
			logged := len(b.records(t)) > 0
			if logged != tt.wantLog {
				t.Errorf("health check logged = %v, want %v:\n%s", logged, tt.wantLog, b.logs.String())
			}
		})
	}
}

func TestLoggingStream(t *testing.T) {
	t.Parallel()
	b := setup(t, ChainConfig{})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(RequestIDHeader, "req-s"))
	_ = b.stream(ctx, "/test.Svc/Watch", &fakeServerStream{}, func(any, grpc.ServerStream) error {
		return status.Error(codes.PermissionDenied, "no")
	})
	rec := b.record(t, "rpc")
	got := map[string]any{"method": rec["method"], "code": rec["code"], "request_id": rec["request_id"]}
	want := map[string]any{"method": "/test.Svc/Watch", "code": "PermissionDenied", "request_id": "req-s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rpc log record (-want +got):\n%s", diff)
	}
}

func TestLevelFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code codes.Code
		want slog.Level
	}{
		{codes.OK, slog.LevelInfo},
		{codes.InvalidArgument, slog.LevelInfo},
		{codes.NotFound, slog.LevelInfo},
		{codes.PermissionDenied, slog.LevelInfo},
		{codes.Unauthenticated, slog.LevelInfo},
		{codes.FailedPrecondition, slog.LevelInfo},
		{codes.Aborted, slog.LevelInfo},
		{codes.Canceled, slog.LevelInfo},
		{codes.Unavailable, slog.LevelWarn},
		{codes.ResourceExhausted, slog.LevelWarn},
		{codes.DeadlineExceeded, slog.LevelWarn},
		{codes.Internal, slog.LevelError},
		{codes.Unknown, slog.LevelError},
		{codes.DataLoss, slog.LevelError},
	}
	for _, tt := range tests {
		if got := levelFor(tt.code); got != tt.want {
			t.Errorf("levelFor(%v) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
