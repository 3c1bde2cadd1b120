package middleware

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/quota"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	listCases   = "/passage.intake.v1.IntakeService/ListCases"
	healthCheck = "/grpc.health.v1.Health/Check"
)

type subjectKey struct{}

// quotaBundle is the chain with both quota stages, behind a fake auth stage: a call's
// "subject" metadata is its verified subject, "bad" or none is a refused token, and health
// checks are public.
func quotaBundle(t *testing.T, limits map[quota.Class]quota.Limit) *bundle {
	t.Helper()
	cfg := quota.DefaultConfig()
	for c, l := range limits {
		cfg.Limits.Set(c, l)
	}
	limiter, err := quota.New(cfg, noop.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	public := func(method string) bool { return strings.HasPrefix(method, "/grpc.health.v1.Health/") }
	authorize := func(ctx context.Context, method string) (context.Context, error) {
		if public(method) {
			return ctx, nil
		}
		subject := metadata.ValueFromIncomingContext(ctx, "subject")
		if len(subject) != 1 || subject[0] == "bad" {
			return nil, status.Error(codes.Unauthenticated, "missing or invalid bearer token")
		}
		return context.WithValue(ctx, subjectKey{}, subject[0]), nil
	}
	return setup(t, ChainConfig{
		AuthUnary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			ctx, err := authorize(ctx, info.FullMethod)
			if err != nil {
				return nil, err
			}
			return h(ctx, req)
		},
		AuthStream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			ctx, err := authorize(ss.Context(), info.FullMethod)
			if err != nil {
				return err
			}
			return h(srv, &ctxStream{ServerStream: ss, ctx: ctx})
		},
		Caller: func(ctx context.Context) (string, string, bool) {
			_, ok := ctx.Value(subjectKey{}).(string)
			return "caseworker", "NER", ok
		},
		Quota: QuotaConfig{Limiter: limiter, Public: public, Subject: func(ctx context.Context) (string, bool, bool) {
			s, ok := ctx.Value(subjectKey{}).(string)
			return s, strings.HasPrefix(s, "partner-"), ok
		}},
	})
}

// from returns a context of a call from ip, with the metadata kv.
func from(ip string, kv ...string) context.Context {
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 50000}})
	return metadata.NewIncomingContext(ctx, metadata.Pairs(kv...))
}

// codesOf makes n calls of method and counts the codes they got and the handler's runs.
func codesOf(b *bundle, ctx context.Context, method string, n int) (map[codes.Code]int, int) {
	got := map[codes.Code]int{}
	var ran atomic.Int64
	for range n {
		_, err := b.call(ctx, method, &intakev1.ListCasesRequest{}, func(context.Context, any) (any, error) {
			ran.Add(1)
			return &intakev1.ListCasesResponse{}, nil
		})
		got[status.Code(err)]++
	}
	return got, int(ran.Load())
}

func TestCallerQuota(t *testing.T) {
	t.Parallel()
	b := quotaBundle(t, map[quota.Class]quota.Limit{quota.Read: {Rate: 1, Burst: 10}})
	got, ran := codesOf(b, from("192.0.2.1", "subject", "staff-flooder-1a2b"), listCases, 50)
	if got[codes.OK] != 10 || got[codes.ResourceExhausted] != 40 || ran != 10 {
		t.Errorf("flooder: codes %v, handler ran %d times; want 10 OK, 40 RESOURCE_EXHAUSTED, 10 runs", got, ran)
	}
	// Another caller at the same address is not affected.
	got, ran = codesOf(b, from("192.0.2.1", "subject", "staff-colleague"), listCases, 10)
	if got[codes.OK] != 10 || ran != 10 {
		t.Errorf("colleague: codes %v, want 10 OK", got)
	}

	var refused int
	for _, rec := range b.records(t) {
		if rec["code"] == "ResourceExhausted" {
			refused++
			if rec["level"] != slog.LevelWarn.String() || rec["caller_role"] != "caseworker" {
				t.Errorf("refusal logged as %v", rec)
			}
		}
	}
	if refused != 40 {
		t.Errorf("%d refusals logged, want 40", refused)
	}
	if strings.Contains(b.logs.String(), "staff-flooder") {
		t.Error("the log names a caller's subject")
	}
}

// Partner calls take from their partner's bucket and from their address's: three partners'
// tokens used from one address get that address's share together, while the same partners
// elsewhere, and staff at that address, are not affected.
func TestPartnerAddressQuota(t *testing.T) {
	t.Parallel()
	b := quotaBundle(t, map[quota.Class]quota.Limit{quota.Partner: {Rate: 1, Burst: 100}, quota.PartnerAddress: {Rate: 1, Burst: 6}})
	admitted := 0
	for _, partner := range []string{"partner-a", "partner-b", "partner-c"} {
		got, ran := codesOf(b, from("198.51.100.7", "subject", partner), listCases, 4)
		if got[codes.OK] != ran {
			t.Fatalf("%s: codes %v, handler ran %d times", partner, got, ran)
		}
		admitted += ran
	}
	if admitted != 6 {
		t.Errorf("three partners' tokens from one address: %d calls admitted, want the address's 6", admitted)
	}
	if got, _ := codesOf(b, from("203.0.113.9", "subject", "partner-a"), listCases, 4); got[codes.OK] != 4 {
		t.Errorf("partner-a from its own address: codes %v, want 4 OK", got)
	}
	if got, _ := codesOf(b, from("198.51.100.7", "subject", "staff-at-the-same-nat"), listCases, 4); got[codes.OK] != 4 {
		t.Errorf("staff at the flooded address: codes %v, want 4 OK", got)
	}
}

// TestCallerQuotaChargesInvalidRequests: the caller stage runs before validation, so a flood
// of invalid requests is refused like any other.
func TestCallerQuotaChargesInvalidRequests(t *testing.T) {
	t.Parallel()
	b := quotaBundle(t, map[quota.Class]quota.Limit{quota.Read: {Rate: 1, Burst: 2}})
	ctx := from("192.0.2.1", "subject", "a")
	invalid := &intakev1.ListCasesRequest{Mission: "not a mission"}
	got := map[codes.Code]int{}
	for range 5 {
		_, err := b.call(ctx, listCases, invalid, func(context.Context, any) (any, error) { return nil, nil })
		got[status.Code(err)]++
	}
	if got[codes.InvalidArgument] != 2 || got[codes.ResourceExhausted] != 3 {
		t.Errorf("codes %v, want 2 INVALID_ARGUMENT then 3 RESOURCE_EXHAUSTED", got)
	}
}

func TestAddressQuota(t *testing.T) {
	t.Parallel()
	b := quotaBundle(t, map[quota.Class]quota.Limit{quota.Unauthenticated: {Rate: 1, Burst: 3}})

	got, ran := codesOf(b, from("192.0.2.1"), healthCheck, 10)
	if got[codes.OK] != 3 || got[codes.ResourceExhausted] != 7 || ran != 3 {
		t.Errorf("health checks from one address: %v, %d runs; want 3 OK, 7 RESOURCE_EXHAUSTED", got, ran)
	}
	if got, _ := codesOf(b, from("192.0.2.9"), healthCheck, 3); got[codes.OK] != 3 {
		t.Errorf("health checks from another address: %v, want 3 OK", got)
	}

	// Refused tokens: UNAUTHENTICATED while the address has budget, then RESOURCE_EXHAUSTED
	// with a delay.
	var last error
	got = map[codes.Code]int{}
	for range 6 {
		_, last = b.call(from("192.0.2.2", "subject", "bad"), listCases, &intakev1.ListCasesRequest{},
			func(context.Context, any) (any, error) { return nil, nil })
		got[status.Code(last)]++
	}
	if got[codes.Unauthenticated] != 3 || got[codes.ResourceExhausted] != 3 {
		t.Errorf("refused tokens: %v, want 3 UNAUTHENTICATED then 3 RESOURCE_EXHAUSTED", got)
	}
	if !hasRetryInfo(last) {
		t.Errorf("%v: no RetryInfo", last)
	}
	// A verified caller behind the same address is not refused for them.
	if got, _ := codesOf(b, from("192.0.2.2", "subject", "good"), listCases, 5); got[codes.OK] != 5 {
		t.Errorf("verified caller at an exhausted address: %v, want 5 OK", got)
	}

	// A public stream is one call, charged when it opens.
	streams := map[codes.Code]int{}
	for range 5 {
		err := b.stream(from("192.0.2.3"), "/grpc.health.v1.Health/Watch", &fakeServerStream{},
			func(any, grpc.ServerStream) error { return nil })
		streams[status.Code(err)]++
	}
	if streams[codes.OK] != 3 || streams[codes.ResourceExhausted] != 2 {
		t.Errorf("health watches: %v, want 3 OK, 2 RESOURCE_EXHAUSTED", streams)
	}
}

func TestStreamCallerQuota(t *testing.T) {
	t.Parallel()
	b := quotaBundle(t, map[quota.Class]quota.Limit{quota.Read: {Rate: 1, Burst: 2}})
	got := map[codes.Code]int{}
	for range 4 {
		err := b.stream(from("192.0.2.1", "subject", "a"), "/passage.intake.v1.IntakeService/ListEverything", &fakeServerStream{},
			func(any, grpc.ServerStream) error { return nil })
		got[status.Code(err)]++
	}
	if got[codes.OK] != 2 || got[codes.ResourceExhausted] != 2 {
		t.Errorf("streams: %v, want 2 OK, 2 RESOURCE_EXHAUSTED", got)
	}
}

func TestChainQuotaConfig(t *testing.T) {
	t.Parallel()
	limiter, err := quota.New(quota.DefaultConfig(), noop.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	unaryAuth := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, req)
	}
	streamAuth := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, ss)
	}
	subject := func(context.Context) (string, bool, bool) { return "", false, false }
	public := func(string) bool { return false }
	logger := slog.New(slog.DiscardHandler)
	for name, cfg := range map[string]ChainConfig{
		"no Public":  {Logger: logger, AuthUnary: unaryAuth, AuthStream: streamAuth, Quota: QuotaConfig{Limiter: limiter, Subject: subject}},
		"no Subject": {Logger: logger, AuthUnary: unaryAuth, AuthStream: streamAuth, Quota: QuotaConfig{Limiter: limiter, Public: public}},
		"no auth":    {Logger: logger, Quota: QuotaConfig{Limiter: limiter, Public: public, Subject: subject}},
	} {
		if _, err := Chain(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Chain(ChainConfig{Logger: logger, AuthUnary: unaryAuth, AuthStream: streamAuth,
		Quota: QuotaConfig{Limiter: limiter, Public: public, Subject: subject}}); err != nil {
		t.Errorf("complete quota configuration: %v", err)
	}
}

// ctxStream is a stream with the context auth established.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

func hasRetryInfo(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			return true
		}
	}
	return false
}
