package middleware

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		panicWith        func()
		wantPanicType    string
		wantRuntimeError bool
	}{
		{
			name:          "string",
			panicWith:     func() { panic("cannot process Amina Haddad") },
			wantPanicType: "string",
		},
		{
			name:          "error",
			panicWith:     func() { panic(errors.New("Amina Haddad, born 1990-01-01")) },
			wantPanicType: "*errors.errorString",
		},
		{
			name: "runtime error",
			panicWith: func() {
				var m map[string]int
				m["Amina Haddad"] = 1
			},
			wantPanicType:    "runtime.plainError",
			wantRuntimeError: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(RequestIDHeader, "req-panic"))

			_, err := b.call(ctx, "/test.Svc/Get", nil, func(context.Context, any) (any, error) {
				tt.panicWith()
				return nil, nil
			})

			st := status.Convert(err)
			if diff := cmp.Diff([2]string{codes.Internal.String(), "internal error"}, [2]string{st.Code().String(), st.Message()}); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			rec := b.record(t, "panic in rpc")
			got := map[string]any{"level": rec["level"], "request_id": rec["request_id"], "panic_type": rec["panic_type"], "method": rec["method"]}
			want := map[string]any{"level": "ERROR", "request_id": "req-panic", "panic_type": tt.wantPanicType, "method": "/test.Svc/Get"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("panic log (-want +got):\n%s", diff)
			}
			if stack, _ := rec["stack"].(string); !strings.Contains(stack, "TestRecovery") {
				t.Errorf("panic log stack does not show the panicking function:\n%s", stack)
			}
			if _, ok := rec["panic_runtime_error"]; ok != tt.wantRuntimeError {
				t.Errorf("panic_runtime_error logged = %v, want %v", ok, tt.wantRuntimeError)
			}
			// The logging stage still writes its line, with the code the client got.
			if diff := cmp.Diff("Internal", b.record(t, "rpc")["code"]); diff != "" {
				t.Errorf("rpc log code (-want +got):\n%s", diff)
			}
			if strings.Contains(b.logs.String(), "Amina") {
				t.Errorf("logs contain the panic value:\n%s", b.logs.String())
			}
		})
	}
}

func TestRecoveryStream(t *testing.T) {
	t.Parallel()
	b := setup(t, ChainConfig{})
	err := b.stream(context.Background(), "/test.Svc/Watch", &fakeServerStream{}, func(any, grpc.ServerStream) error {
		panic("Amina Haddad")
	})
	if diff := cmp.Diff(codes.Internal, status.Code(err)); diff != "" {
		t.Errorf("code (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("string", b.record(t, "panic in rpc")["panic_type"]); diff != "" {
		t.Errorf("panic_type (-want +got):\n%s", diff)
	}
	if strings.Contains(b.logs.String(), "Amina") {
		t.Errorf("logs contain the panic value:\n%s", b.logs.String())
	}
}
