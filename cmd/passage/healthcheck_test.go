package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/passage-cm/passage/internal/healthcheck"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/mtls/mtlstest"
	"github.com/passage-cm/passage/internal/servetest"
)

// probeServer answers every request with code and body, and records the paths asked.
func probeServer(t *testing.T, code int, body string) (addr string, paths chan string) {
	t.Helper()
	paths = make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		if code == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", code)
			return
		}
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), paths
}

// A 200 is healthy, on stdout; anything else is not, said in one line on stderr with the
// status and the body's first line.
func TestHealthcheckHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		code       int
		body       string
		args       []string
		wantPath   string
		wantExit   int
		wantResult string // after "http://ADDR"
	}{
		{"ready", 200, "ready", nil, "/readyz", 0, "/readyz: 200 ready"},
		{"live", 200, "ok", []string{"--live"}, "/healthz", 0, "/healthz: 200 ok"},
		{"not ready, second line dropped", 503, "database unreachable\nmore", nil, "/readyz", 1, "/readyz: 503 database unreachable"},
		{"draining", 503, "not ready", nil, "/readyz", 1, "/readyz: 503 not ready"},
		{"a redirect is not followed", http.StatusFound, "", nil, "/readyz", 1, "/readyz: 302 <a href=\"/elsewhere\">Found</a>."},
		{"no body", 500, "", []string{"--live"}, "/healthz", 1, "/healthz: 500"},
		{"terminal escapes dropped", 503, "not \x1b[2Kready\r", nil, "/readyz", 1, "/readyz: 503 not [2Kready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, paths := probeServer(t, tt.code, tt.body)
			code, stdout, stderr := runArgs(t, append([]string{"healthcheck", "--http", addr}, tt.args...)...)
			result := "http://" + addr + tt.wantResult + "\n"
			wantOut, wantErr := result, ""
			if tt.wantExit != 0 {
				wantOut, wantErr = "", "passage: healthcheck: "+result
			}
			if code != tt.wantExit || stdout != wantOut || stderr != wantErr {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q", code, stdout, stderr, tt.wantExit, wantOut, wantErr)
			}
			if got := <-paths; got != tt.wantPath {
				t.Errorf("asked %s, want %s", got, tt.wantPath)
			}
			if len(paths) != 0 {
				t.Errorf("%d more requests: a probe makes one attempt", len(paths))
			}
		})
	}
}

// A server that sends an endless body is read no further than MaxBody, and the result
// repeats at most MaxLine characters of it.
func TestHealthcheckBoundsTheBody(t *testing.T) {
	t.Parallel()
	const sent = 64 << 20
	written := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		chunk := []byte(strings.Repeat("x", 32<<10))
		n := 0
		for n < sent {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	}))
	t.Cleanup(srv.Close)
	code, _, stderr := runArgs(t, "healthcheck", "--http", srv.Listener.Addr().String())
	line, _, _ := strings.Cut(strings.TrimPrefix(stderr, "passage: healthcheck: http://"+srv.Listener.Addr().String()+"/readyz: 503 "), "\n")
	if code != 1 || line != strings.Repeat("x", healthcheck.MaxLine)+"…" {
		t.Errorf("exit %d, stderr %d characters; want exit 1 and %d x then an ellipsis", code, utf8.RuneCountInString(stderr), healthcheck.MaxLine)
	}
	if n := <-written; n >= sent {
		t.Errorf("the probe read the whole %d-byte body", n)
	}
}

// Nothing listening, or no answer within --timeout: unhealthy, and said so.
func TestHealthcheckUnreachable(t *testing.T) {
	t.Parallel()
	addr := servetest.FreeAddrs(t, 1)[0]
	code, stdout, stderr := runArgs(t, "healthcheck", "--http", addr)
	if want := "passage: healthcheck: http://" + addr + "/readyz: dial tcp " + addr + ": connect: connection refused\n"; code != 1 || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, want)
	}

	// A server that never answers: the handler holds the request until the probe gives up.
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	slow := srv.Listener.Addr().String()
	code, stdout, stderr = runArgs(t, "healthcheck", "--http", slow, "--timeout", "50ms")
	if want := "passage: healthcheck: http://" + slow + "/readyz: no answer within 50ms\n"; code != 1 || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, want)
	}
}

// Without --http the probe reads PASSAGE_HTTP_ADDR as serve does, and an unspecified host
// (the images' ":7080") is probed on loopback.
func TestHealthcheckReadsTheServersAddress(t *testing.T) {
	addr, paths := probeServer(t, http.StatusOK, "ready")
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{addr, ":" + port, "0.0.0.0:" + port} {
		t.Setenv("PASSAGE_HTTP_ADDR", env)
		code, stdout, stderr := runArgs(t, "healthcheck")
		if want := "http://127.0.0.1:" + port + "/readyz: 200 ready\n"; code != 0 || stdout != want || stderr != "" {
			t.Errorf("PASSAGE_HTTP_ADDR=%s: exit %d, stdout %q, stderr %q; want exit 0 and %q", env, code, stdout, stderr, want)
		}
		<-paths
	}
	// A setting serve refuses is refused here too.
	t.Setenv("PASSAGE_HTTP_ADDR", addr)
	t.Setenv("PASSAGE_SHUTDOWN_GRACE", "soon")
	if code, _, stderr := runArgs(t, "healthcheck"); code != 1 || !strings.Contains(stderr, "PASSAGE_SHUTDOWN_GRACE") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming PASSAGE_SHUTDOWN_GRACE", code, stderr)
	}
}

// grpcHealthServer serves the gRPC health service (with TLS when tc is set) and returns its
// address and the health server to set statuses on.
func grpcHealthServer(t *testing.T, opts ...grpc.ServerOption) (string, *health.Server) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return lis.Addr().String(), h
}

// --grpc asks the gRPC health service, for the server or one --service.
func TestHealthcheckGRPC(t *testing.T) {
	t.Parallel()
	const intake, returns = "passage.intake.v1.IntakeService", "passage.returns.v1.ReturnService"
	addr, h := grpcHealthServer(t)
	h.SetServingStatus(intake, healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus(returns, healthpb.HealthCheckResponse_NOT_SERVING)
	closed := servetest.FreeAddrs(t, 1)[0]
	tests := []struct {
		args     []string
		wantExit int
		want     string // stdout when healthy, else stderr
	}{
		{[]string{"--grpc", addr}, 0, "gRPC health of " + addr + ": SERVING\n"},
		{[]string{"--grpc", addr, "--service", intake}, 0, "gRPC health of " + addr + " " + intake + ": SERVING\n"},
		{[]string{"--grpc", addr, "--service", returns}, 1, "passage: healthcheck: gRPC health of " + addr + " " + returns + ": NOT_SERVING\n"},
		{[]string{"--grpc", addr, "--service", "passage.nothing.v1.Nothing"}, 1, "passage: healthcheck: gRPC health of " + addr + " passage.nothing.v1.Nothing: NotFound: unknown service\n"},
		{[]string{"--grpc", closed}, 1, "passage: healthcheck: gRPC health of " + closed + ": Unavailable: connection error: desc = \"transport: Error while dialing: dial tcp " + closed + ": connect: connection refused\"\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(t, append([]string{"healthcheck"}, tt.args...)...)
		got := stdout
		if tt.wantExit != 0 {
			got = stderr + stdout
		}
		if code != tt.wantExit || got != tt.want {
			t.Errorf("healthcheck %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.wantExit, tt.want)
		}
	}

	// A server that turns NOT_SERVING (its database unreachable, or draining) fails the probe.
	h.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if code, _, stderr := runArgs(t, "healthcheck", "--grpc", addr); code != 1 || !strings.HasSuffix(stderr, ": NOT_SERVING\n") {
		t.Errorf("exit %d, stderr %q; want exit 1 and NOT_SERVING", code, stderr)
	}
}

// With TLS the probe takes the client commands' flags: the CA verifies the server, which
// refuses a connection in the clear.
func TestHealthcheckGRPCOverTLS(t *testing.T) {
	t.Parallel()
	ca := mtlstest.NewCA(t, "passage")
	pair := ca.Server(t, "server")
	tc, err := mtls.ServerConfig(mtls.ServerFiles{Cert: pair.Cert, Key: pair.Key})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := grpcHealthServer(t, grpc.Creds(credentials.NewTLS(tc)))
	if code, stdout, stderr := runArgs(t, "healthcheck", "--grpc", addr, "--tls-ca", ca.CertFile); code != 0 || stdout != "gRPC health of "+addr+": SERVING\n" {
		t.Errorf("with --tls-ca: exit %d, stdout %q, stderr %q; want SERVING", code, stdout, stderr)
	}
	if code, _, stderr := runArgs(t, "healthcheck", "--grpc", addr); code != 1 || !strings.Contains(stderr, "Unavailable") {
		t.Errorf("in the clear to a TLS server: exit %d, stderr %q; want exit 1, Unavailable", code, stderr)
	}
	if code, _, stderr := runArgs(t, "healthcheck", "--grpc", addr, "--tls-ca", ca.CertFile, "--insecure"); code != 1 || !strings.Contains(stderr, "--tls-* flags given for a connection without TLS") {
		t.Errorf("--tls-ca with --insecure: exit %d, stderr %q; want it refused", code, stderr)
	}
}

// A command line that cannot be probed exits 2, said once.
func TestHealthcheckUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--service", "passage.intake.v1.IntakeService"}, "--service is for a gRPC probe: add --grpc host:port"},
		{[]string{"--tls-ca", "ca.pem"}, "--tls-ca is for a gRPC probe: add --grpc host:port"},
		{[]string{"--grpc", "127.0.0.1:7070", "--live"}, "--grpc asks the gRPC health service: --live and --http are for the HTTP probe"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"now"}, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(t, append([]string{"healthcheck"}, tt.args...)...)
		want := "passage: healthcheck: " + tt.want + " (passage healthcheck -h for help)\n"
		if code != 2 || stdout != "" || stderr != want {
			t.Errorf("healthcheck %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tt.args, " "), code, stdout, stderr, want)
		}
	}
}
