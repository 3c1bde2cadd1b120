package mtls_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/mtls/mtlstest"
)

// serve runs a gRPC health server with the TLS configuration of files and returns its address.
func serve(t *testing.T, files mtls.ServerFiles) string {
	t.Helper()
	tc, err := mtls.ServerConfig(files)
	if err != nil {
		t.Fatalf("ServerConfig: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// check dials addr with the client files and makes one call.
func check(t *testing.T, addr string, files mtls.ClientFiles) error {
	t.Helper()
	tc, err := mtls.ClientConfig(files)
	if err != nil {
		t.Fatalf("ClientConfig: %v", err)
	}
	return checkWith(t, addr, tc)
}

func checkWith(t *testing.T, addr string, tc *tls.Config) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	other := mtlstest.NewCA(t, "intruder")
	srv := ca.Server(t, "server")
	addr := serve(t, mtls.ServerFiles{Cert: srv.Cert, Key: srv.Key, ClientCA: ca.CertFile})

	good := ca.Client(t, "returns")
	foreign := other.Client(t, "foreign")
	expired := ca.ExpiredClient(t, "expired")
	tests := []struct {
		name   string
		client mtls.ClientFiles
		ok     bool
	}{
		{"client certificate from the CA", mtls.ClientFiles{CA: ca.CertFile, Cert: good.Cert, Key: good.Key}, true},
		{"no client certificate", mtls.ClientFiles{CA: ca.CertFile}, false},
		{"certificate from another CA", mtls.ClientFiles{CA: ca.CertFile, Cert: foreign.Cert, Key: foreign.Key}, false},
		{"expired certificate", mtls.ClientFiles{CA: ca.CertFile, Cert: expired.Cert, Key: expired.Key}, false},
		{"server not trusted by the client", mtls.ClientFiles{CA: other.CertFile, Cert: good.Cert, Key: good.Key}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := check(t, addr, tt.client)
			if tt.ok && err != nil {
				t.Fatalf("Check: %v, want success", err)
			}
			if !tt.ok && status.Code(err) != codes.Unavailable {
				t.Fatalf("Check: %v, want the handshake refused (UNAVAILABLE)", err)
			}
		})
	}
}

func TestTLS12Refused(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	srv := ca.Server(t, "server")
	good := ca.Client(t, "client")
	addr := serve(t, mtls.ServerFiles{Cert: srv.Cert, Key: srv.Key, ClientCA: ca.CertFile})

	tc, err := mtls.ClientConfig(mtls.ClientFiles{CA: ca.CertFile, Cert: good.Cert, Key: good.Key})
	if err != nil {
		t.Fatal(err)
	}
	tc.MinVersion, tc.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	if err := checkWith(t, addr, tc); status.Code(err) != codes.Unavailable {
		t.Fatalf("TLS 1.2 client: %v, want refused", err)
	}
}

func TestServerWithoutClientCA(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	srv := ca.Server(t, "server")
	addr := serve(t, mtls.ServerFiles{Cert: srv.Cert, Key: srv.Key})
	if err := check(t, addr, mtls.ClientFiles{CA: ca.CertFile}); err != nil {
		t.Fatalf("TLS without client certificate: %v", err)
	}
}

// TestReload replaces the client CA on disk: the next handshake trusts the new CA and no
// longer the old one, without a restart.
func TestReload(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	next := mtlstest.NewCA(t, "passage-2027")
	srv := ca.Server(t, "server")
	clientCA := t.TempDir() + "/client-ca.pem"
	copyFile(t, ca.CertFile, clientCA)
	addr := serve(t, mtls.ServerFiles{Cert: srv.Cert, Key: srv.Key, ClientCA: clientCA})

	oldClient := ca.Client(t, "old")
	newClient := next.Client(t, "new")
	oldFiles := mtls.ClientFiles{CA: ca.CertFile, Cert: oldClient.Cert, Key: oldClient.Key}
	newFiles := mtls.ClientFiles{CA: ca.CertFile, Cert: newClient.Cert, Key: newClient.Key}
	if err := check(t, addr, oldFiles); err != nil {
		t.Fatalf("before reload, old client: %v", err)
	}
	if err := check(t, addr, newFiles); err == nil {
		t.Fatal("before reload, client of the new CA accepted")
	}

	copyFile(t, next.CertFile, clientCA)
	// Make the change visible even on a file system with coarse timestamps.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(clientCA, later, later); err != nil {
		t.Fatal(err)
	}
	if err := check(t, addr, newFiles); err != nil {
		t.Fatalf("after reload, new client: %v", err)
	}
	if err := check(t, addr, oldFiles); err == nil {
		t.Fatal("after reload, client of the retired CA accepted")
	}

	// A broken renewal keeps the last good configuration instead of failing every handshake.
	if err := os.WriteFile(clientCA, []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := check(t, addr, newFiles); err != nil {
		t.Fatalf("after a broken renewal: %v", err)
	}
}

func TestHalfConfigurationRefused(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	srv := ca.Server(t, "server")
	for name, f := range map[string]mtls.ServerFiles{
		"cert without key":    {Cert: srv.Cert},
		"key without cert":    {Key: srv.Key},
		"client CA alone":     {ClientCA: ca.CertFile},
		"nothing":             {},
		"missing file":        {Cert: srv.Cert + ".gone", Key: srv.Key},
		"key of another cert": {Cert: srv.Cert, Key: ca.Client(t, "c").Key},
		"CA file not PEM":     {Cert: srv.Cert, Key: srv.Key, ClientCA: srv.Key},
	} {
		if _, err := mtls.ServerConfig(f); err == nil {
			t.Errorf("ServerConfig(%s): no error", name)
		}
	}
	for name, f := range map[string]mtls.ClientFiles{
		"cert without key": {Cert: srv.Cert},
		"key without cert": {Key: srv.Key},
		"missing CA":       {CA: ca.CertFile + ".gone"},
	} {
		if _, err := mtls.ClientConfig(f); err == nil {
			t.Errorf("ClientConfig(%s): no error", name)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
