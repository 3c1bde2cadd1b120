package auth

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	registerCase = "/passage.intake.v1.IntakeService/RegisterCase"
	healthCheck  = "/grpc.health.v1.Health/Check"
)

func TestInterceptors(t *testing.T) {
	t.Parallel()

	key := newKey(t)
	verifier := NewKeyVerifier(key.Public(), DevIssuer, Audience)
	policy := Policy{registerCase: {RoleCaseworker}}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)

	caseworker := sign(t, key, "", exp, nil)
	supervisor := sign(t, key, "", exp, func(c *tokenClaims) { c.Role = string(RoleSupervisor) })
	expired := sign(t, key, "", time.Now().Add(-time.Hour), nil)
	forged := sign(t, newKey(t), "", exp, nil)

	tests := []struct {
		name     string
		method   string
		auth     []string // authorization metadata values
		wantCode codes.Code
		wantMsg  string
		want     *Claims // claims the handler sees; nil: none
	}{
		{
			name:     "allowed role",
			method:   registerCase,
			auth:     []string{"Bearer " + caseworker},
			wantCode: codes.OK,
			want:     &Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: exp},
		},
		{
			name:     "scheme is case-insensitive",
			method:   registerCase,
			auth:     []string{"bearer " + caseworker},
			wantCode: codes.OK,
			want:     &Claims{Subject: "staff-7f3a", Role: RoleCaseworker, Mission: "NER", ExpiresAt: exp},
		},
		{
			name:     "public method without token",
			method:   healthCheck,
			wantCode: codes.OK,
		},
		{
			name:     "public method ignores a bad token",
			method:   healthCheck,
			auth:     []string{"Bearer garbage"},
			wantCode: codes.OK,
		},
		{
			name:     "no token",
			method:   registerCase,
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "garbage token",
			method:   registerCase,
			auth:     []string{"Bearer garbage.token.value"},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "empty bearer",
			method:   registerCase,
			auth:     []string{"Bearer "},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "token without scheme",
			method:   registerCase,
			auth:     []string{caseworker},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "basic auth",
			method:   registerCase,
			auth:     []string{"Basic c3RhZmY6cGFzc3dvcmQ="},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "two authorization values",
			method:   registerCase,
			auth:     []string{"Bearer " + caseworker, "Bearer " + supervisor},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "expired token",
			method:   registerCase,
			auth:     []string{"Bearer " + expired},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "token from another key",
			method:   registerCase,
			auth:     []string{"Bearer " + forged},
			wantCode: codes.Unauthenticated,
			wantMsg:  "missing or invalid bearer token",
		},
		{
			name:     "role not allowed",
			method:   registerCase,
			auth:     []string{"Bearer " + supervisor},
			wantCode: codes.PermissionDenied,
			wantMsg:  "role supervisor may not call /passage.intake.v1.IntakeService/RegisterCase",
		},
		{
			name:     "method not in policy",
			method:   "/passage.intake.v1.IntakeService/GetCase",
			auth:     []string{"Bearer " + caseworker},
			wantCode: codes.PermissionDenied,
			wantMsg:  "role caseworker may not call /passage.intake.v1.IntakeService/GetCase",
		},
	}

	// Each case runs through both interceptors, and through the tap handle in front of the
	// unary one (as the server runs them): they must agree.
	calls := map[string]func(ctx context.Context, method string) (context.Context, bool, error){
		"tap": func(ctx context.Context, method string) (context.Context, bool, error) {
			md, _ := metadata.FromIncomingContext(ctx)
			ctx, err := TapHandle(verifier, nil)(ctx, &tap.Info{FullMethodName: method, Header: md})
			if err != nil {
				return nil, false, err
			}
			var seen context.Context
			handler := func(ctx context.Context, _ any) (any, error) {
				seen = ctx
				return "ok", nil
			}
			_, err = UnaryServerInterceptor(verifier, policy, nil)(ctx, "request", &grpc.UnaryServerInfo{FullMethod: method}, handler)
			return seen, seen != nil, err
		},
		"unary": func(ctx context.Context, method string) (context.Context, bool, error) {
			var seen context.Context
			handler := func(ctx context.Context, _ any) (any, error) {
				seen = ctx
				return "ok", nil
			}
			info := &grpc.UnaryServerInfo{FullMethod: method}
			_, err := UnaryServerInterceptor(verifier, policy, nil)(ctx, "request", info, handler)
			return seen, seen != nil, err
		},
		"stream": func(ctx context.Context, method string) (context.Context, bool, error) {
			var seen context.Context
			handler := func(_ any, ss grpc.ServerStream) error {
				seen = ss.Context()
				return nil
			}
			info := &grpc.StreamServerInfo{FullMethod: method, IsServerStream: true}
			err := StreamServerInterceptor(verifier, policy, nil)(nil, fakeStream{ctx: ctx}, info, handler)
			return seen, seen != nil, err
		},
	}

	for _, tt := range tests {
		for kind, call := range calls {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				if tt.auth != nil {
					ctx = metadata.NewIncomingContext(ctx, metadata.MD{"authorization": tt.auth})
				}

				seen, called, err := call(ctx, tt.method)

				st := status.Convert(err)
				if diff := cmp.Diff(tt.wantCode, st.Code()); diff != "" {
					t.Errorf("code mismatch (-want +got):\n%s", diff)
				}
				if tt.wantCode != codes.OK {
					if diff := cmp.Diff(tt.wantMsg, st.Message()); diff != "" {
						t.Errorf("message mismatch (-want +got):\n%s", diff)
					}
				}
				for _, token := range []string{caseworker, supervisor, expired, forged} {
					if strings.Contains(st.Message(), token) || strings.Contains(st.Message(), strings.Split(token, ".")[1]) {
						t.Errorf("error message %q contains a token or its claims", st.Message())
					}
				}
				if called != (tt.wantCode == codes.OK) {
					t.Fatalf("handler called = %v, want %v", called, tt.wantCode == codes.OK)
				}
				if !called {
					return
				}
				var got *Claims
				if c, ok := FromContext(seen); ok {
					got = &c
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("handler claims mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestInterceptorsRejectNilVerifier(t *testing.T) {
	t.Parallel()

	for name, build := range map[string]func(){
		"unary":  func() { UnaryServerInterceptor(nil, Policy{}, nil) },
		"stream": func() { StreamServerInterceptor(nil, Policy{}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("no panic for a nil Verifier")
				}
			}()
			build()
		})
	}
}

type fakeStream struct {
	grpc.ServerStream // nil: only Context is used
	ctx               context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

// whoamiMethod is a probe service registered by hand so that a real server
// has a non-public unary method to protect.
const whoamiMethod = "/passage.authtest.v1.Probe/Whoami"

var probeService = grpc.ServiceDesc{
	ServiceName: "passage.authtest.v1.Probe",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Whoami",
		Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			whoami := func(ctx context.Context, _ any) (any, error) {
				c, ok := FromContext(ctx)
				if !ok {
					return nil, status.Error(codes.Internal, "no claims in context")
				}
				return wrapperspb.String(c.Subject + " " + string(c.Role) + " " + c.Mission), nil
			}
			if interceptor == nil {
				return whoami(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{FullMethod: whoamiMethod}, whoami)
		},
	}},
}

// startServer runs a real gRPC server on an in-memory listener with the auth
// interceptors, the standard health service and the probe service. Not internal/testserver:
// it tests these interceptors alone, and testserver is built on this package (an import
// cycle in package auth's own tests).
func startServer(t *testing.T, v Verifier, p Policy) func(opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(v, p, nil)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(v, p, nil)),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	srv.RegisterService(&probeService, struct{}{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	return func(opts ...grpc.DialOption) (*grpc.ClientConn, error) {
		opts = append(opts,
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
		)
		conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
		if err == nil {
			t.Cleanup(func() { conn.Close() })
		}
		return conn, err
	}
}

func TestServerOverBufconn(t *testing.T) {
	t.Parallel()

	key := newKey(t)
	token, err := MintToken(key, DevIssuer, Audience, Claims{Subject: "staff-9", Role: RoleSupervisor, Mission: "MLI"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dial := startServer(t, NewKeyVerifier(key.Public(), DevIssuer, Audience), Policy{whoamiMethod: {RoleSupervisor}})

	anonymous, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	withToken, err := dial(grpc.WithPerRPCCredentials(BearerCredentials(token, false)))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("health needs no token", func(t *testing.T) {
		t.Parallel()
		resp, err := healthpb.NewHealthClient(anonymous).Check(t.Context(), &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if diff := cmp.Diff(healthpb.HealthCheckResponse_SERVING, resp.GetStatus()); diff != "" {
			t.Errorf("health status mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("health watch stream needs no token", func(t *testing.T) {
		t.Parallel()
		stream, err := healthpb.NewHealthClient(anonymous).Watch(t.Context(), &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if diff := cmp.Diff(healthpb.HealthCheckResponse_SERVING, resp.GetStatus()); diff != "" {
			t.Errorf("health status mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("protected method without token", func(t *testing.T) {
		t.Parallel()
		err := anonymous.Invoke(t.Context(), whoamiMethod, &emptypb.Empty{}, new(wrapperspb.StringValue))
		if diff := cmp.Diff(codes.Unauthenticated, status.Code(err)); diff != "" {
			t.Errorf("code mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("protected method with BearerCredentials", func(t *testing.T) {
		t.Parallel()
		out := new(wrapperspb.StringValue)
		if err := withToken.Invoke(t.Context(), whoamiMethod, &emptypb.Empty{}, out); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if diff := cmp.Diff("staff-9 supervisor MLI", out.GetValue()); diff != "" {
			t.Errorf("handler saw other claims (-want +got):\n%s", diff)
		}
	})

	t.Run("TLS-only credentials refused on an insecure connection", func(t *testing.T) {
		t.Parallel()
		conn, err := dial(grpc.WithPerRPCCredentials(BearerCredentials(token, true)))
		if err == nil {
			err = conn.Invoke(t.Context(), whoamiMethod, &emptypb.Empty{}, new(wrapperspb.StringValue))
		}
		if err == nil {
			t.Fatal("call succeeded, want the token withheld on an insecure connection")
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error %q contains the token", err)
		}
	})
}

func TestBearerCredentials(t *testing.T) {
	t.Parallel()

	for _, requireTLS := range []bool{true, false} {
		creds := BearerCredentials("abc.def.ghi", requireTLS)
		md, err := creds.GetRequestMetadata(t.Context())
		if err != nil {
			t.Fatalf("GetRequestMetadata: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"authorization": "Bearer abc.def.ghi"}, md); diff != "" {
			t.Errorf("metadata mismatch (-want +got):\n%s", diff)
		}
		if got := creds.RequireTransportSecurity(); got != requireTLS {
			t.Errorf("RequireTransportSecurity() = %v, want %v", got, requireTLS)
		}
	}
}
