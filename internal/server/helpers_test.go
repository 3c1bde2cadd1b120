package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/telemetry"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	goodToken   = "good-token"
	getCase     = "/passage.intake.v1.IntakeService/GetCase"
	validCaseID = "0b5c7a52-8a2f-4c1e-9d47-3f1f0f6e2a11"
)

// bundle is one running server on real loopback listeners and a client for it.
type bundle struct {
	srv     *server.Server
	conn    *grpc.ClientConn
	intake  intakev1.IntakeServiceClient
	httpURL string
	logs    *syncBuffer
	fake    *fakeIntake
	stop    func() error // cancels Run and returns what it returned
}

type setupOptions struct {
	cfg     server.Config
	watch   server.Watch   // one watch every service depends on, when its Pinger is set
	watches []server.Watch // further watches
	// also are further services set serving beside intake (health only: nothing serves them).
	also      []string
	telemetry bool
	getCase   func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error)
}

// setup runs a server of this package on its own, with a fake intake. Not internal/testserver:
// these are the server package's own tests (its configuration, interceptors, probes and
// shutdown), and testserver is built on it.
func setup(t *testing.T, o setupOptions) *bundle {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	opts := server.Options{
		Verifier: fakeVerifier{},
		Policy:   auth.Policy{getCase: {auth.RoleCaseworker}},
		Watches:  o.watches,
	}
	if o.watch.Pinger != nil {
		opts.Watches = append([]server.Watch{o.watch}, o.watches...)
	}
	if o.telemetry {
		tel, err := telemetry.Setup(context.Background(), "passage-test", "test")
		if err != nil {
			t.Fatalf("telemetry: %v", err)
		}
		t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
		opts.Telemetry = tel
	}
	srv, err := server.New(o.cfg, logger, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	fake := &fakeIntake{getCase: o.getCase}
	intakev1.RegisterIntakeServiceServer(srv.GRPC(), fake)
	srv.SetServing(intakev1.IntakeService_ServiceDesc.ServiceName)
	for _, name := range o.also {
		srv.SetServing(name)
	}

	grpcLis := listen(t)
	httpLis := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.RunOn(ctx, grpcLis, httpLis) }()

	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		conn.Close()
		if err := stop(); err != nil {
			t.Errorf("Run returned %v", err)
		}
	})
	return &bundle{
		srv:     srv,
		conn:    conn,
		intake:  intakev1.NewIntakeServiceClient(conn),
		httpURL: "http://" + httpLis.Addr().String(),
		logs:    logs,
		fake:    fake,
		stop:    stop,
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return lis
}

// authed returns a context carrying a token the fake verifier accepts.
func authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+goodToken)
}

// get fetches path from the HTTP server and returns the status code and body.
func (b *bundle) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(b.httpURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// records returns the parsed log records with message msg.
func (b *bundle) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// fakeVerifier accepts goodToken as a caseworker in mission NER.
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, token string) (auth.Claims, error) {
	if token != goodToken {
		return auth.Claims{}, errors.New("fake: unknown token")
	}
	return auth.Claims{Subject: "staff-1", Role: auth.RoleCaseworker, Mission: "NER"}, nil
}

// fakeIntake answers GetCase with the test's function; every other method is unimplemented.
type fakeIntake struct {
	intakev1.UnimplementedIntakeServiceServer
	getCase func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error)
}

func (f *fakeIntake) GetCase(ctx context.Context, req *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
	if f.getCase == nil {
		return &intakev1.GetCaseResponse{Case: &intakev1.Case{CaseId: req.GetCaseId()}}, nil
	}
	return f.getCase(ctx, req)
}

// syncBuffer is a bytes.Buffer the server's goroutines may write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
