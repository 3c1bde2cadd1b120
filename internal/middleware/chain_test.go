package middleware

import (
	"context"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestChainConfig(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	unaryAuth := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, req)
	}
	streamAuth := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, ss)
	}
	tests := []struct {
		name    string
		cfg     ChainConfig
		wantErr bool
	}{
		{name: "no auth", cfg: ChainConfig{Logger: logger}},
		{name: "auth", cfg: ChainConfig{Logger: logger, AuthUnary: unaryAuth, AuthStream: streamAuth}},
		{name: "no logger", cfg: ChainConfig{}, wantErr: true},
		{name: "unary auth only", cfg: ChainConfig{Logger: logger, AuthUnary: unaryAuth}, wantErr: true},
		{name: "stream auth only", cfg: ChainConfig{Logger: logger, AuthStream: streamAuth}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := Chain(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Chain error = %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && len(opts) != 2 {
				t.Errorf("Chain returned %d options, want 2", len(opts))
			}
		})
	}
}

type callerKey struct{}

// TestChainOrder checks the places of auth: inside masking and logging, before validation.
func TestChainOrder(t *testing.T) {
	t.Parallel()
	invalid := &intakev1.GetCaseRequest{CaseId: "not-a-uuid"}
	tests := []struct {
		name     string
		token    bool
		wantCode codes.Code
		wantLog  map[string]any
	}{
		{
			// A refused caller learns nothing of the request's validity.
			name:     "auth refuses before validation",
			wantCode: codes.Unauthenticated,
			wantLog:  map[string]any{"code": "Unauthenticated"},
		},
		{
			name:     "authenticated caller is validated and logged",
			token:    true,
			wantCode: codes.InvalidArgument,
			wantLog: map[string]any{
				"code": "InvalidArgument", "caller_role": "caseworker", "caller_mission": "NER-AGADEZ",
				"invalid_fields": []any{"case_id"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{
				AuthUnary: func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
					if !tt.token {
						return nil, status.Error(codes.Unauthenticated, "missing or invalid bearer token")
					}
					return h(context.WithValue(ctx, callerKey{}, "caseworker"), req)
				},
				AuthStream: func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
					return h(srv, ss)
				},
				Caller: func(ctx context.Context) (string, string, bool) {
					role, ok := ctx.Value(callerKey{}).(string)
					return role, "NER-AGADEZ", ok
				},
			})
			called := false
			_, err := b.call(context.Background(), "/passage.intake.v1.IntakeService/GetCase", invalid, func(context.Context, any) (any, error) {
				called = true
				return nil, nil
			})
			if called {
				t.Error("handler was called")
			}
			if diff := cmp.Diff(tt.wantCode, status.Code(err)); diff != "" {
				t.Errorf("code (-want +got):\n%s", diff)
			}
			rec := b.record(t, "rpc")
			got := map[string]any{}
			for k := range tt.wantLog {
				got[k] = rec[k]
			}
			if diff := cmp.Diff(tt.wantLog, got); diff != "" {
				t.Errorf("rpc log (-want +got):\n%s", diff)
			}
		})
	}
}
