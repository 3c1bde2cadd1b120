package demo

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// flaky answers with each error in turn, then succeeds; it records the requests it got.
type flaky struct {
	errs []error
	got  []string
}

func (f *flaky) rpc(_ context.Context, req string, _ ...grpc.CallOption) (string, error) {
	f.got = append(f.got, req)
	if len(f.got) <= len(f.errs) {
		return "", f.errs[len(f.got)-1]
	}
	return "done", nil
}

func TestRetry(t *testing.T) {
	t.Parallel()
	unavailable, notFound := status.Error(codes.Unavailable, "x"), status.Error(codes.NotFound, "x")
	tests := []struct {
		name      string
		first     bool
		errs      []error
		wantCode  codes.Code
		wantCalls int
	}{
		{"unavailable is retried with the same request", false, []error{unavailable, unavailable}, codes.OK, 3},
		{"a refusal is final", false, []error{status.Error(codes.InvalidArgument, "x")}, codes.InvalidArgument, 1},
		{"not found is final for a later step", false, []error{notFound}, codes.NotFound, 1},
		{"not found is awaited on a first step", true, []error{notFound, notFound, unavailable, notFound}, codes.OK, 5},
		{"attempts run out", false, []error{unavailable, unavailable, unavailable, unavailable}, codes.Unavailable, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &Loader{Attempts: 3, AwaitCase: time.Minute}
			f := &flaky{errs: tt.errs}
			do := call[string, string]
			if tt.first {
				do = first[string, string]
			}
			_, err := do(t.Context(), l, "Method", f.rpc, "request-1")
			if status.Code(err) != tt.wantCode || len(f.got) != tt.wantCalls {
				t.Fatalf("got %v after %d calls, want %v after %d", err, len(f.got), tt.wantCode, tt.wantCalls)
			}
			for _, r := range f.got {
				if r != "request-1" {
					t.Fatalf("a retry sent %q", r)
				}
			}
			if l.calls.Load() != int64(tt.wantCalls) {
				t.Errorf("%d calls counted, want %d", l.calls.Load(), tt.wantCalls)
			}
		})
	}
	// A first step stops waiting once AwaitCase has passed.
	l := &Loader{Attempts: 3, AwaitCase: time.Nanosecond}
	f := &flaky{errs: []error{notFound, notFound, notFound}}
	if _, err := first(t.Context(), l, "Method", f.rpc, "r"); status.Code(err) != codes.NotFound {
		t.Errorf("after AwaitCase: %v, want NOT_FOUND", err)
	}
}
