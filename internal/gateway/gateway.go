package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/passage-cm/passage/internal/netlimit"
)

// Registrar registers one service's HTTP bindings on mux, calling the service through conn:
// the generated Register<Service>Handler functions.
type Registrar func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error

// MaxBodyBytes bounds a request body, like the gRPC server's own message limit.
const MaxBodyBytes = 1 << 20

// Gateway is the HTTP/JSON front of a gRPC server.
type Gateway struct {
	handler http.Handler
	local   *http.Server
	lis     *bufconn.Listener
	conn    *grpc.ClientConn
}

// New builds the gateway for the services registrars describe, in front of g. g must have its
// services registered; it is served in-process to the proxy only (HTTP/2 without TLS over an
// in-memory pipe: nothing leaves the process), and keeps serving its own listeners.
func New(ctx context.Context, g *grpc.Server, registrars ...Registrar) (*Gateway, error) {
	lis := bufconn.Listen(1 << 20)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	local := &http.Server{Handler: g, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = local.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///passage-local",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		_ = local.Close()
		return nil, fmt.Errorf("gateway: local connection: %w", err)
	}
	mux := runtime.NewServeMux(
		// Partners get the protobuf JSON mapping: lowerCamelCase names, enums by name, unset
		// fields left out.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: false},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		// Only the bearer token and the request id travel from HTTP headers to gRPC metadata;
		// other headers are not the server's business.
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			switch http.CanonicalHeaderKey(key) {
			case "X-Request-Id":
				return "x-request-id", true
			}
			return "", false
		}),
	)
	for _, r := range registrars {
		if err := r(ctx, mux, conn); err != nil {
			_ = conn.Close()
			_ = local.Close()
			return nil, fmt.Errorf("gateway: register: %w", err)
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		mux.ServeHTTP(w, r)
	})
	return &Gateway{handler: h, local: local, lis: lis, conn: conn}, nil
}

// Handler is the gateway's HTTP handler, for tests that serve it themselves.
func (gw *Gateway) Handler() http.Handler { return gw.handler }

// Serve serves the gateway on lis until ctx ends, over TLS when tc is not nil (the gateway's
// own files, PASSAGE_PARTNER_TLS_*, built like gRPC's: TLS 1.3, certificates reloaded from
// disk, partner client certificates when a client CA is configured), within limits (timeouts,
// header and body sizes, HTTP/2 streams: internal/server's Config.HTTPLimits), then shuts down
// within grace. lis should come capped (internal/server's LimitListener): TLS is layered here,
// above the cap.
func (gw *Gateway) Serve(ctx context.Context, lis net.Listener, tc *tls.Config, limits netlimit.HTTP, grace time.Duration) error {
	if tc != nil {
		lis = tls.NewListener(lis, httpsConfig(tc))
	}
	srv := limits.Server(gw.handler)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	var err error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
		if serr := srv.Shutdown(sctx); serr != nil {
			_ = srv.Close()
		}
		cancel()
		err = <-done
	case err = <-done:
	}
	gw.close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (gw *Gateway) close() {
	_ = gw.conn.Close()
	_ = gw.local.Close()
}

// httpsConfig offers HTTP/1.1 beside HTTP/2: a partner's curl or HTTP library may speak
// either, where a gRPC client speaks only h2.
func httpsConfig(tc *tls.Config) *tls.Config {
	out := tc.Clone()
	withProtos := func(c *tls.Config) *tls.Config {
		c = c.Clone()
		c.NextProtos = []string{"h2", "http/1.1"}
		return c
	}
	out.NextProtos = []string{"h2", "http/1.1"}
	if get := tc.GetConfigForClient; get != nil {
		out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := get(hello)
			if err != nil || c == nil {
				return c, err
			}
			return withProtos(c), nil
		}
	}
	return out
}
