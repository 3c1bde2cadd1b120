package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/middleware"
	"github.com/passage-cm/passage/internal/server"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	client := healthpb.NewHealthClient(b.conn)

	// No token: probes must not need one.
	for _, service := range []string{"", intakev1.IntakeService_ServiceDesc.ServiceName} {
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("Check(%q): %v", service, err)
		}
		if diff := cmp.Diff(healthpb.HealthCheckResponse_SERVING, resp.GetStatus()); diff != "" {
			t.Errorf("Check(%q) status (-want +got):\n%s", service, diff)
		}
	}
	_, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "passage.nope.v1.Nope"})
	if diff := cmp.Diff(codes.NotFound, status.Code(err)); diff != "" {
		t.Errorf("Check(unknown service) code (-want +got):\n%s", diff)
	}
}

// Reflection lists the services when it is on, and is not served at all when it is off (the
// default): a client learns nothing of the methods it was not told about.
func TestReflection(t *testing.T) {
	t.Parallel()
	cfg := server.DefaultConfig()
	cfg.Reflection = true
	got, err := listServices(setup(t, setupOptions{cfg: cfg}).conn)
	if err != nil {
		t.Fatalf("reflection on: %v", err)
	}
	want := []string{
		"grpc.health.v1.Health",
		"grpc.reflection.v1.ServerReflection",
		"grpc.reflection.v1alpha.ServerReflection",
		"passage.intake.v1.IntakeService",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	got, err = listServices(setup(t, setupOptions{cfg: server.DefaultConfig()}).conn)
	if status.Code(err) != codes.Unimplemented || got != nil {
		t.Errorf("reflection off (the default): services %v, error %v; want Unimplemented", got, err)
	}
}

// listServices asks the server's reflection for its services, sorted.
func listServices(conn grpc.ClientConnInterface) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.CloseSend() }()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var got []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		got = append(got, s.GetName())
	}
	slices.Sort(got)
	return got, nil
}

// rpcResult is what a client sees of a call.
type rpcResult struct {
	Code    codes.Code
	Message string
	Fields  []*errdetails.BadRequest_FieldViolation
}

func TestCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   bool
		caseID  string
		handler func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error)
		want    rpcResult // Message "{id}" stands for the request id
	}{
		{
			name:   "ok",
			token:  true,
			caseID: validCaseID,
			want:   rpcResult{Code: codes.OK},
		},
		{
			name:   "panic",
			token:  true,
			caseID: validCaseID,
			handler: func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
				panic("Amina Haddad")
			},
			want: rpcResult{Code: codes.Internal, Message: "internal error"},
		},
		{
			name:   "plain error is masked",
			token:  true,
			caseID: validCaseID,
			handler: func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
				return nil, fmt.Errorf("user Amina Haddad not found")
			},
			want: rpcResult{Code: codes.Internal, Message: "internal error (request id {id})"},
		},
		{
			name:   "client status passes",
			token:  true,
			caseID: validCaseID,
			handler: func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
				return nil, status.Error(codes.NotFound, "case not found")
			},
			want: rpcResult{Code: codes.NotFound, Message: "case not found"},
		},
		{
			name:   "validation",
			token:  true,
			caseID: "Amina Haddad",
			want: rpcResult{
				Code:    codes.InvalidArgument,
				Message: "invalid request: case_id: must be a valid UUID",
				Fields:  []*errdetails.BadRequest_FieldViolation{{Field: "case_id", Description: "must be a valid UUID"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOptions{getCase: tt.handler})
			ctx := context.Background()
			if tt.token {
				ctx = authed(ctx)
			}

			var header metadata.MD
			_, err := b.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: tt.caseID}, grpc.Header(&header))

			ids := header.Get(middleware.RequestIDHeader)
			if len(ids) != 1 || ids[0] == "" {
				t.Fatalf("response header %s = %q, want one id", middleware.RequestIDHeader, ids)
			}
			st := status.Convert(err)
			got := rpcResult{Code: st.Code(), Message: st.Message()}
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					got.Fields = br.GetFieldViolations()
				}
			}
			want := tt.want
			want.Message = strings.ReplaceAll(want.Message, "{id}", ids[0])
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if strings.Contains(st.String(), "Amina") {
				t.Errorf("client sees personal data: %v", st)
			}

			// One log line for the call, with the id the client got back.
			rpcLogs := b.records(t, "rpc")
			if len(rpcLogs) != 1 {
				t.Fatalf("want 1 rpc log line, got %d:\n%s", len(rpcLogs), b.logs.String())
			}
			gotLog := map[string]any{"method": rpcLogs[0]["method"], "code": rpcLogs[0]["code"], "request_id": rpcLogs[0]["request_id"]}
			wantLog := map[string]any{"method": getCase, "code": tt.want.Code.String(), "request_id": ids[0]}
			if diff := cmp.Diff(wantLog, gotLog); diff != "" {
				t.Errorf("rpc log (-want +got):\n%s", diff)
			}

			// The server keeps serving after whatever happened, panics included.
			if _, err := healthpb.NewHealthClient(b.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Errorf("health check after the call: %v", err)
			}
		})
	}
}

// TestRefusedWhenStreamOpens checks that a call without a valid token is refused as the
// interceptor would refuse it, before the chain runs (and so before its message is read): no
// handler, no RPC log line, counted in passage_server_streams_unauthenticated_total; public
// methods still need no token.
func TestRefusedWhenStreamOpens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		md   []string // outgoing metadata
	}{
		{name: "no token"},
		{name: "token the verifier refuses", md: []string{"authorization", "Bearer forged"}},
		{name: "not a bearer token", md: []string{"authorization", "Basic " + goodToken}},
		{name: "two tokens", md: []string{"authorization", "Bearer " + goodToken, "authorization", "Bearer " + goodToken}},
	}
	b := setup(t, setupOptions{telemetry: true, getCase: func(context.Context, *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
		t.Error("handler reached without a valid token")
		return nil, status.Error(codes.Internal, "reached")
	}})
	for _, tt := range tests {
		ctx := metadata.AppendToOutgoingContext(context.Background(), tt.md...)
		_, err := b.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: validCaseID})
		st := status.Convert(err)
		got := rpcResult{Code: st.Code(), Message: st.Message()}
		if diff := cmp.Diff(rpcResult{Code: codes.Unauthenticated, Message: "missing or invalid bearer token"}, got); diff != "" {
			t.Errorf("%s: result (-want +got):\n%s", tt.name, diff)
		}
	}
	if n := len(b.records(t, "rpc")); n != 0 {
		t.Errorf("%d rpc log lines for refused calls, want none:\n%s", n, b.logs.String())
	}
	if _, err := healthpb.NewHealthClient(b.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check without a token: %v", err)
	}
	_, body := b.get(t, "/metrics")
	if want := fmt.Sprintf("passage_server_streams_unauthenticated_total{otel_scope_name=%q,otel_scope_schema_url=\"\",otel_scope_version=\"\"} %d", "github.com/passage-cm/passage/internal/server", len(tests)); !strings.Contains(body, want) {
		t.Errorf("metrics lack %s:\n%s", want, body)
	}
}

func TestCallerIsLogged(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	if _, err := b.intake.GetCase(authed(context.Background()), &intakev1.GetCaseRequest{CaseId: validCaseID}); err != nil {
		t.Fatalf("GetCase: %v", err)
	}
	rec := b.records(t, "rpc")[0]
	got := map[string]any{"caller_role": rec["caller_role"], "caller_mission": rec["caller_mission"]}
	if diff := cmp.Diff(map[string]any{"caller_role": "caseworker", "caller_mission": "NER"}, got); diff != "" {
		t.Errorf("caller in rpc log (-want +got):\n%s", diff)
	}
}

func TestRequestIDRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sent   string
		wantID func(got string) bool
	}{
		{name: "client id echoed", sent: "field-client.7", wantID: func(got string) bool { return got == "field-client.7" }},
		{name: "none sent", wantID: func(got string) bool { return got != "" }},
		{name: "unsafe id replaced", sent: `evil "id" =1`, wantID: func(got string) bool { return got != "" && !strings.ContainsAny(got, ` "=`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOptions{getCase: func(ctx context.Context, _ *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
				// Handlers see the same id.
				return &intakev1.GetCaseResponse{Case: &intakev1.Case{Mission: middleware.RequestID(ctx)}}, nil
			}})
			ctx := authed(context.Background())
			if tt.sent != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, middleware.RequestIDHeader, tt.sent)
			}
			var header metadata.MD
			resp, err := b.intake.GetCase(ctx, &intakev1.GetCaseRequest{CaseId: validCaseID}, grpc.Header(&header))
			if err != nil {
				t.Fatalf("GetCase: %v", err)
			}
			ids := header.Get(middleware.RequestIDHeader)
			if len(ids) != 1 || !tt.wantID(ids[0]) {
				t.Fatalf("response header %s = %q", middleware.RequestIDHeader, ids)
			}
			if diff := cmp.Diff(ids[0], resp.GetCase().GetMission()); diff != "" {
				t.Errorf("RequestID in the handler (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaxRecvMsgBytes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{cfg: server.Config{MaxRecvMsgBytes: 1024}})
	_, err := b.intake.GetCase(authed(context.Background()), &intakev1.GetCaseRequest{CaseId: strings.Repeat("x", 2048)})
	if diff := cmp.Diff(codes.ResourceExhausted, status.Code(err)); diff != "" {
		t.Errorf("code (-want +got):\n%s", diff)
	}
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      setupOptions
		path      string
		wantCode  int
		wantBody  string // exact, unless wantMatch
		wantMatch string // a substring the body must contain
	}{
		{name: "healthz", path: "/healthz", wantCode: http.StatusOK, wantBody: "ok"},
		{name: "readyz without a check", path: "/readyz", wantCode: http.StatusOK, wantBody: "ready"},
		{
			name:      "metrics after a call",
			opts:      setupOptions{telemetry: true},
			path:      "/metrics",
			wantCode:  http.StatusOK,
			wantMatch: `rpc_server_call_duration_seconds_count{`,
		},
		{name: "no metrics without telemetry", path: "/metrics", wantCode: http.StatusNotFound, wantMatch: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opts)
			if _, err := b.intake.GetCase(authed(context.Background()), &intakev1.GetCaseRequest{CaseId: validCaseID}); err != nil {
				t.Fatalf("GetCase: %v", err)
			}

			code, body := b.get(t, tt.path)
			if code != tt.wantCode {
				t.Errorf("GET %s status = %d, want %d; body:\n%s", tt.path, code, tt.wantCode, body)
			}
			if tt.wantMatch != "" {
				if !strings.Contains(body, tt.wantMatch) {
					t.Errorf("GET %s body lacks %q:\n%s", tt.path, tt.wantMatch, body)
				}
			} else if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("GET %s body (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestMetricsLeaveHealthChecksOut(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{telemetry: true})
	if _, err := healthpb.NewHealthClient(b.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if _, err := b.intake.GetCase(authed(context.Background()), &intakev1.GetCaseRequest{CaseId: validCaseID}); err != nil {
		t.Fatalf("GetCase: %v", err)
	}
	// The server records a call when its stats handler sees the call end, which may come
	// after the client has its answer: read the metrics until the call is there.
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body = b.get(t, "/metrics")
		if strings.Contains(body, `rpc_method="passage.intake.v1.IntakeService/GetCase"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack the GetCase call:\n%s", body)
		}
	}
	if strings.Contains(body, "grpc.health.v1") {
		t.Errorf("metrics include health checks:\n%s", body)
	}
}

// TestGracefulShutdown checks that ending Run's context turns health to NOT_SERVING, lets
// the call in flight finish, and makes Run return nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseHandler := func() { releaseOnce.Do(func() { close(release) }) }
	// Deferred calls run before cleanups: a failed assertion must not leave the server's
	// shutdown, in setup's cleanup, waiting for the handler forever.
	defer releaseHandler()
	b := setup(t, setupOptions{getCase: func(ctx context.Context, req *intakev1.GetCaseRequest) (*intakev1.GetCaseResponse, error) {
		close(started)
		<-release
		return &intakev1.GetCaseResponse{Case: &intakev1.Case{CaseId: req.GetCaseId()}}, nil
	}})

	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	watch, err := healthpb.NewHealthClient(b.conn).Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first health status = %v, %v; want SERVING", resp.GetStatus(), err)
	}

	callErr := make(chan error, 1)
	go func() {
		_, err := b.intake.GetCase(authed(context.Background()), &intakev1.GetCaseRequest{CaseId: validCaseID})
		callErr <- err
	}()
	<-started

	runErr := make(chan error, 1)
	go func() { runErr <- b.stop() }()

	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health status after shutdown began = %v, %v; want NOT_SERVING", resp.GetStatus(), err)
	}
	stopWatch() // GracefulStop waits for open streams too
	if code, body := b.get(t, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while draining = %d %q, want 503", code, body)
	}
	if code, body := b.get(t, "/readyz/"+intakev1.IntakeService_ServiceDesc.ServiceName); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz/<intake> while draining = %d %q, want 503", code, body)
	}

	releaseHandler()
	if err := <-callErr; err != nil {
		t.Errorf("in-flight call: %v", err)
	}
	if err := <-runErr; err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name    string
		logger  *slog.Logger
		opts    server.Options
		wantErr bool
	}{
		{name: "ok", logger: logger, opts: server.Options{Verifier: fakeVerifier{}}},
		{name: "no verifier", logger: logger, wantErr: true},
		{name: "no logger", opts: server.Options{Verifier: fakeVerifier{}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := server.New(server.Config{}, tt.logger, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Errorf("New error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
