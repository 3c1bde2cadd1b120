package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
	local := &http.Server{Handler: fromForwardedFor(g), Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = local.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///passage-local",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		_ = local.Close()
		return nil, fmt.Errorf("gateway: local connection: %w", err)
	}
	// Partners get the protobuf JSON mapping: lowerCamelCase names, enums by name, unset
	// fields left out.
	marshaler := &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: false},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler),
		// The method is the request's own: no X-HTTP-Method-Override, no POST of a form
		// answered by a GET handler (strictRequests also drops the override headers).
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithDisablePathLengthFallback(),
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
	return &Gateway{handler: strictRequests(mux, marshaler), local: local, lis: lis, conn: conn}, nil
}

// fromForwardedFor hands next each call of the proxy with the partner's address as its
// RemoteAddr, so that the gRPC server's peer (what its per-address quota keys on) is the
// partner's host, not the in-memory pipe every gateway call shares. The address is the last
// X-Forwarded-For entry: the proxy appends the address the partner's connection came from
// after whatever the partner's request said, and nothing but the proxy reaches this server.
func fromForwardedFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip, ok := lastForwarded(r.Header.Values("X-Forwarded-For")); ok {
			r.RemoteAddr = netip.AddrPortFrom(ip, 0).String()
		}
		next.ServeHTTP(w, r)
	})
}

// lastForwarded is the last address of X-Forwarded-For values.
func lastForwarded(values []string) (netip.Addr, bool) {
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(last))
	return ip, err == nil
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
