package retrypolicy_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/passage-cm/passage/internal/retrypolicy"
)

// flaky answers the first failures calls with code, then serves.
type flaky struct {
	healthpb.UnimplementedHealthServer
	code     codes.Code
	failures int32
	calls    atomic.Int32
}

func (f *flaky) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if f.calls.Add(1) <= f.failures {
		return nil, status.Error(f.code, "not yet")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// serve runs srv on a bare gRPC server and returns a client dialled with the retry policy.
// Not internal/testserver: what is tested is the client's policy against a server made to
// fail a set number of times, which no Passage service can be told to do.
func serve(t *testing.T, srv healthpb.HealthServer) healthpb.HealthClient {
	t.Helper()
	lis := bufconn.Listen(1 << 16)
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, srv)
	go g.Serve(lis) //nolint:errcheck // ends with Stop
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()), retrypolicy.DialOption())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func TestServiceConfigRetriesUnavailableAndAborted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		code      codes.Code
		failures  int32
		wantCode  codes.Code
		wantCalls int32
	}{
		{"unavailable, then served", codes.Unavailable, 3, codes.OK, 4},
		{"aborted, then served", codes.Aborted, 2, codes.OK, 3},
		{"unavailable five times: given up", codes.Unavailable, 10, codes.Unavailable, 5},
		{"not found is an answer", codes.NotFound, 1, codes.NotFound, 1},
		{"failed precondition is an answer", codes.FailedPrecondition, 1, codes.FailedPrecondition, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &flaky{code: tt.code, failures: tt.failures}
			_, err := serve(t, srv).Check(context.Background(), &healthpb.HealthCheckRequest{})
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("code %v, want %v", got, tt.wantCode)
			}
			if got := srv.calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls reached the server, want %d", got, tt.wantCalls)
			}
		})
	}
}
