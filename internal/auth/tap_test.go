package auth

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// TestTapHandleReadsTheStreamHeaders checks that the tap handle judges a call by the headers
// grpc hands it (tap.Info), whatever the context carries, and reports each refusal.
func TestTapHandleReadsTheStreamHeaders(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	token := sign(t, key, "", time.Now().Add(time.Hour), nil)
	var refused []string
	h := TapHandle(NewKeyVerifier(key.Public(), DevIssuer, Audience), func(_ context.Context, method string) {
		refused = append(refused, method)
	})

	tests := []struct {
		name   string
		method string
		header metadata.MD
		want   codes.Code
	}{
		{name: "token in the headers", method: registerCase, header: metadata.Pairs("authorization", "Bearer "+token), want: codes.OK},
		{name: "no headers", method: registerCase, want: codes.Unauthenticated},
		{name: "public method", method: healthCheck, want: codes.OK},
		{name: "reflection", method: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", want: codes.OK},
		{name: "unknown method", method: "/passage.nope.v1.Nope/Probe", header: metadata.Pairs("authorization", "Bearer x"), want: codes.Unauthenticated},
	}
	for _, tt := range tests {
		// The context claims a good token; only the stream's headers count.
		ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+token))
		_, err := h(ctx, &tap.Info{FullMethodName: tt.method, Header: tt.header})
		if diff := cmp.Diff(tt.want, status.Code(err)); diff != "" {
			t.Errorf("%s: code (-want +got):\n%s", tt.name, diff)
		}
	}
	if diff := cmp.Diff([]string{registerCase, "/passage.nope.v1.Nope/Probe"}, refused); diff != "" {
		t.Errorf("refusals reported (-want +got):\n%s", diff)
	}
}
