package testserver

import (
	"context"
	"net"

	"google.golang.org/grpc/test/bufconn"
)

// grpcListener returns the server's gRPC listener, in memory or on loopback TCP, and how a
// client dials it.
func grpcListener(tcp bool) (net.Listener, func(context.Context, string) (net.Conn, error), error) {
	if !tcp {
		lis := bufconn.Listen(1 << 20)
		return lis, func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }, nil
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	var d net.Dialer
	return lis, func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }, nil
}
