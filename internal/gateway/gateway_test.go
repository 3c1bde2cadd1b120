package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/passage-cm/passage/internal/netlimit"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// recorder is a gRPC server behind the gateway that remembers which method each HTTP request
// reached, by its X-Request-Id, and the metadata it arrived with. Its methods are the
// generated Unimplemented ones: the tests look at routing, not answers.
type recorder struct {
	referralv1.UnimplementedReferralServiceServer
	mu    sync.Mutex
	calls map[string]call
}

type call struct {
	method string
	md     metadata.MD
}

func (rec *recorder) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if ids := md.Get("x-request-id"); len(ids) == 1 {
		rec.mu.Lock()
		rec.calls[ids[0]] = call{method: info.FullMethod, md: md}
		rec.mu.Unlock()
	}
	return handler(ctx, req)
}

func (rec *recorder) call(id string) (call, bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	c, ok := rec.calls[id]
	return c, ok
}

// serve runs the gateway in front of a recorder on a loopback listener and returns its base
// URL. The server stops when the test ends.
func serve(t *testing.T) (*recorder, string) {
	t.Helper()
	rec := &recorder{calls: make(map[string]call)}
	g := grpc.NewServer(grpc.UnaryInterceptor(rec.intercept))
	referralv1.RegisterReferralServiceServer(g, rec)
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := New(ctx, g, referralv1.RegisterReferralServiceHandler)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	limits := netlimit.HTTP{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
		MaxHeaderBytes: 16 << 10, MaxBodyBytes: MaxBodyBytes}
	go func() { done <- gw.Serve(ctx, lis, nil, limits, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		g.Stop()
	})
	return rec, "http://" + lis.Addr().String()
}

const (
	getReferral    = "/passage.referral.v1.ReferralService/GetReferral"
	acceptReferral = "/passage.referral.v1.ReferralService/AcceptReferral"
)

var requestIDs atomic.Int64

// request is one HTTP call to the gateway.
type request struct {
	method, path string
	header       http.Header
	body         io.Reader
}

// do sends req and returns the response's status, its body, and the gRPC method it reached
// ("" for none).
func do(t *testing.T, rec *recorder, base string, req request) (int, []byte, call) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), req.method, base+req.path, req.body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	id := fmt.Sprintf("req-%d", requestIDs.Add(1))
	r.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := rec.call(id)
	return resp.StatusCode, body, c
}

func contentType(values ...string) http.Header { return http.Header{"Content-Type": values} }

// unsized hides a reader's length, so the client sends the body chunked.
type unsized struct{ io.Reader }

// TestContentType: a request body reaches the service only when declared application/json
// (a utf-8 charset allowed); anything else is 415 in the gateway's JSON error shape and
// reaches nothing.
func TestContentType(t *testing.T) {
	t.Parallel()
	rec, base := serve(t)
	accept := func(h http.Header) request {
		return request{method: http.MethodPost, path: "/v1/referrals/r1:accept", header: h, body: strings.NewReader(`{}`)}
	}
	tests := []struct {
		name string
		req  request
		want string // the method reached; "": refused with 415
	}{
		{"application/json", accept(contentType("application/json")), acceptReferral},
		{"charset utf-8", accept(contentType("application/json; charset=utf-8")), acceptReferral},
		{"upper case", accept(contentType(`Application/JSON; Charset="UTF-8"`)), acceptReferral},
		{"GET without body or type", request{method: http.MethodGet, path: "/v1/referrals/r1"}, getReferral},
		{"text/plain", accept(contentType("text/plain")), ""},
		{"form", accept(contentType("application/x-www-form-urlencoded")), ""},
		{"multipart", accept(contentType("multipart/form-data; boundary=x")), ""},
		{"xml", accept(contentType("application/xml")), ""},
		{"json suffix", accept(contentType("application/merge-patch+json")), ""},
		{"latin-1 charset", accept(contentType("application/json; charset=iso-8859-1")), ""},
		{"other parameter", accept(contentType("application/json; version=2")), ""},
		{"malformed", accept(contentType("application/json; charset")), ""},
		{"two types", accept(contentType("application/json", "text/plain")), ""},
		{"body without type", accept(nil), ""},
		{"chunked body without type", request{method: http.MethodPost, path: "/v1/referrals/r1:accept", body: unsized{strings.NewReader(`{}`)}}, ""},
		{"GET with a non-JSON type", request{method: http.MethodGet, path: "/v1/referrals/r1", header: contentType("text/plain")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body, c := do(t, rec, base, tt.req)
			if c.method != tt.want {
				t.Errorf("reached %q, want %q", c.method, tt.want)
			}
			if tt.want != "" {
				if code == http.StatusUnsupportedMediaType {
					t.Errorf("status 415 for an accepted request")
				}
				return
			}
			if code != http.StatusUnsupportedMediaType {
				t.Errorf("status %d, want 415", code)
			}
			var status struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &status); err != nil || status.Message != "Content-Type must be application/json" {
				t.Errorf("body %s (%v), want the gateway's JSON error", body, err)
			}
		})
	}
}

// TestMethodOverrideIgnored: X-HTTP-Method-Override, X-HTTP-Method and X-Method-Override
// change nothing: a request reaches the method bound to its own HTTP method, or none, and the
// headers do not travel to the service.
func TestMethodOverrideIgnored(t *testing.T) {
	t.Parallel()
	rec, base := serve(t)
	for _, name := range methodOverrideHeaders {
		over := func(method string, h http.Header) http.Header {
			if h == nil {
				h = http.Header{}
			}
			h.Set(name, method)
			return h
		}
		tests := []struct {
			name     string
			req      request
			want     string // the method reached, "" for none
			wantCode int    // 0: any
		}{
			{"POST accept asking for GET", request{method: http.MethodPost, path: "/v1/referrals/r1:accept",
				header: over(http.MethodGet, contentType("application/json")), body: strings.NewReader(`{}`)}, acceptReferral, 0},
			// grpc-gateway answers a method a path has no binding for with 501 (UNIMPLEMENTED).
			{"POST to a GET binding asking for GET", request{method: http.MethodPost, path: "/v1/referrals/r1",
				header: over(http.MethodGet, contentType("application/json")), body: strings.NewReader(`{}`)}, "", http.StatusNotImplemented},
			{"form POST to a GET binding asking for GET", request{method: http.MethodPost, path: "/v1/referrals/r1",
				header: over(http.MethodGet, contentType("application/x-www-form-urlencoded"))}, "", http.StatusUnsupportedMediaType},
			{"GET asking for POST", request{method: http.MethodGet, path: "/v1/referrals/r1", header: over(http.MethodPost, nil)}, getReferral, 0},
			{"GET asking for DELETE", request{method: http.MethodGet, path: "/v1/referrals/r1", header: over(http.MethodDelete, nil)}, getReferral, 0},
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				code, _, c := do(t, rec, base, tt.req)
				if c.method != tt.want {
					t.Errorf("reached %q, want %q", c.method, tt.want)
				}
				if tt.wantCode != 0 && code != tt.wantCode {
					t.Errorf("status %d, want %d", code, tt.wantCode)
				}
				for k := range c.md {
					if strings.Contains(k, "method") {
						t.Errorf("metadata %q reached the service", k)
					}
				}
			})
		}
	}
}

// TestFormFallbackRefused: grpc-gateway answers a POST of a form with the GET handler of the
// same path by default; here it is refused before routing.
func TestFormFallbackRefused(t *testing.T) {
	t.Parallel()
	rec, base := serve(t)
	code, _, c := do(t, rec, base, request{method: http.MethodPost, path: "/v1/referrals/r1",
		header: contentType("application/x-www-form-urlencoded"), body: strings.NewReader("view=full")})
	if c.method != "" || code != http.StatusUnsupportedMediaType {
		t.Errorf("form POST: status %d, reached %q; want 415 and nothing reached", code, c.method)
	}
}
