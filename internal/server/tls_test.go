package server_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/mtls/mtlstest"
	"github.com/passage-cm/passage/internal/server"
)

// TestMutualTLS runs the server as configured by PASSAGE_TLS_*: with a client CA, only a
// client holding a certificate from that CA gets through.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	cert := ca.Server(t, "server")
	cfg := server.Config{TLS: mtls.ServerFiles{Cert: cert.Cert, Key: cert.Key, ClientCA: ca.CertFile}}
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler), server.Options{Verifier: fakeVerifier{}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	grpcLis, httpLis := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.RunOn(ctx, grpcLis, httpLis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunOn: %v", err)
		}
	})

	client := ca.Client(t, "client")
	for _, tt := range []struct {
		name  string
		files mtls.ClientFiles
		want  codes.Code
	}{
		{"with a client certificate", mtls.ClientFiles{CA: ca.CertFile, Cert: client.Cert, Key: client.Key}, codes.OK},
		{"without", mtls.ClientFiles{CA: ca.CertFile}, codes.Unavailable},
	} {
		tc, err := mtls.ClientConfig(tt.files)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		if err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{})
		ccancel()
		conn.Close()
		if got := status.Code(err); got != tt.want {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestNewRefusesBadTLSFiles(t *testing.T) {
	t.Parallel()
	cfg := server.Config{TLS: mtls.ServerFiles{Cert: t.TempDir() + "/missing.pem", Key: t.TempDir() + "/missing.key"}}
	if _, err := server.New(cfg, slog.New(slog.DiscardHandler), server.Options{Verifier: fakeVerifier{}}); err == nil {
		t.Fatal("New with unreadable TLS files: no error")
	}
}
