package main

import (
	"context"
	"flag"
	"io"
	"net"
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

// TestDialMutualTLS: the CLI's connection presents the client certificate from --tls-cert
// and --tls-key to a server that requires one, and verifies the server with --tls-ca.
func TestDialMutualTLS(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	srvCert := ca.Server(t, "server")
	tc, err := mtls.ServerConfig(mtls.ServerFiles{Cert: srvCert.Cert, Key: srvCert.Key, ClientCA: ca.CertFile})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A bare gRPC server with TLS: what is tested is the CLI's dialling (its CA, its client
	// certificate), which internal/testserver's in-memory listener in the clear cannot show.
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	client := ca.Client(t, "caseworker-laptop")
	env := map[string]string{
		"PASSAGE_ADDR":            lis.Addr().String(),
		"PASSAGE_TOKEN":           "tok",
		"PASSAGE_TLS_CA":          ca.CertFile,
		"PASSAGE_TLS_CLIENT_CERT": client.Cert,
		"PASSAGE_TLS_CLIENT_KEY":  client.Key,
	}
	check := func(args []string, env map[string]string) error {
		t.Helper()
		getenv := func(k string) string { return env[k] }
		fs, o := newFlagSet("case", "get", "get", io.Discard, getenv)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if err := o.resolve(given, getenv); err != nil {
			t.Fatal(err)
		}
		conn, err := dial(*o)
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}

	// TLS files mean TLS, even on a loopback address where plaintext is the default.
	if err := check(nil, env); err != nil {
		t.Fatalf("with the client certificate from the environment: %v", err)
	}
	noCert := map[string]string{"PASSAGE_ADDR": env["PASSAGE_ADDR"], "PASSAGE_TOKEN": "tok", "PASSAGE_TLS_CA": ca.CertFile}
	if err := check(nil, noCert); status.Code(err) != codes.Unavailable {
		t.Fatalf("without a client certificate: %v, want UNAVAILABLE", err)
	}
	if err := check([]string{"--tls-cert", client.Cert, "--tls-key", client.Key}, noCert); err != nil {
		t.Fatalf("with the client certificate from flags: %v", err)
	}
	if err := check([]string{"--insecure"}, env); err == nil {
		t.Fatal("--insecure with TLS files: no error")
	}
	if err := check([]string{"--tls-key", ""}, env); err == nil {
		t.Fatal("a client certificate without its key: no error")
	}
}
