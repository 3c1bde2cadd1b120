package quota

import (
	"github.com/passage-cm/passage/internal/envconfig"

	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/testtime"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// newLimiter returns a limiter on a stopped clock, with limits overriding the defaults, and
// the reader of its metrics.
func newLimiter(t *testing.T, limits map[Class]Limit, maxBuckets int) (*Limiter, *testtime.Clock, *sdkmetric.ManualReader) {
	t.Helper()
	cfg := DefaultConfig()
	for c, l := range limits {
		cfg.Limits.Set(c, l)
	}
	cfg.MaxBuckets = maxBuckets
	reader := sdkmetric.NewManualReader()
	clk := testtime.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	l, err := New(cfg, sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return l, clk, reader
}

// admitted counts the calls of subject in class, of cost each, admitted out of n made at
// once.
func admitted(l *Limiter, subject string, class Class, cost float64, n int) int {
	ok := 0
	for range n {
		if l.Caller(context.Background(), subject, class, cost) == nil {
			ok++
		}
	}
	return ok
}

func TestFloodingCallerIsRefusedAndAnotherIsNot(t *testing.T) {
	t.Parallel()
	l, _, reader := newLimiter(t, map[Class]Limit{Read: {Rate: 10, Burst: 20}}, 0)
	if got := admitted(l, "flooder", Read, 1, 1000); got != 20 {
		t.Errorf("flooder: %d of 1000 admitted, want the burst, 20", got)
	}
	err := l.Caller(context.Background(), "flooder", Read, 1)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("flooder's next call: %v, want RESOURCE_EXHAUSTED", err)
	}
	if got := admitted(l, "colleague", Read, 1, 20); got != 20 {
		t.Errorf("colleague: %d of 20 admitted, want all", got)
	}
	if got := admitted(l, "flooder", Write, 1, 5); got != 5 {
		t.Errorf("flooder's writes: %d of 5 admitted, want all: each class has its own bucket", got)
	}
	if got := refusals(t, reader); got[Read] != 981 || len(got) != 1 {
		t.Errorf("refusals = %v, want read 981 only", got)
	}
}

func TestRefusalNamesTheClassAndTheWait(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t, map[Class]Limit{Search: {Rate: 4, Burst: 1}}, 0)
	ctx := context.Background()
	if err := l.Caller(ctx, "staff-7f3a", Search, 1); err != nil {
		t.Fatal(err)
	}
	st := status.Convert(l.Caller(ctx, "staff-7f3a", Search, 1))
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("code %s, want RESOURCE_EXHAUSTED", st.Code())
	}
	var retry *errdetails.RetryInfo
	var failure *errdetails.QuotaFailure
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.RetryInfo:
			retry = d
		case *errdetails.QuotaFailure:
			failure = d
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() != 250*time.Millisecond {
		t.Errorf("RetryInfo = %v, want a delay of 250ms (one token at 4 a second)", retry)
	}
	if failure == nil || len(failure.GetViolations()) != 1 || failure.GetViolations()[0].GetSubject() != "class:search" {
		t.Errorf("QuotaFailure = %v, want one violation of class:search", failure)
	}
	if text := fmt.Sprint(st.Proto()); strings.Contains(text, "staff-7f3a") {
		t.Errorf("the refusal names the caller: %s", text)
	}
}

func TestBucketsRefill(t *testing.T) {
	t.Parallel()
	l, clk, _ := newLimiter(t, map[Class]Limit{Write: {Rate: 2, Burst: 4}}, 0)
	if got := admitted(l, "a", Write, 1, 10); got != 4 {
		t.Fatalf("%d admitted at once, want 4", got)
	}
	delay := retryDelay(t, l.Caller(context.Background(), "a", Write, 1))
	clk.Advance(delay - time.Millisecond)
	if err := l.Caller(context.Background(), "a", Write, 1); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("before the delay: %v, want RESOURCE_EXHAUSTED", err)
	}
	clk.Advance(time.Millisecond)
	if err := l.Caller(context.Background(), "a", Write, 1); err != nil {
		t.Errorf("after the delay it asked for: %v", err)
	}
	clk.Advance(time.Hour)
	if got := admitted(l, "a", Write, 1, 10); got != 4 {
		t.Errorf("after an hour: %d admitted, want the burst, 4, and no more", got)
	}
}

// TestAnalyticsCost: an analyst's heavy tables empty the bucket sooner than grand totals,
// and an over-priced call still passes once the bucket is full.
func TestAnalyticsCost(t *testing.T) {
	t.Parallel()
	l, clk, _ := newLimiter(t, map[Class]Limit{Analytics: {Rate: 10, Burst: 90}}, 0)
	const aggregate = analyticsv1.AnalyticsService_Aggregate_FullMethodName
	d := analyticsv1.Dimension_DIMENSION_SEX
	heavy := Cost(aggregate, &analyticsv1.AggregateRequest{GroupBy: []analyticsv1.Dimension{d, d + 1, d + 2}})
	light := Cost(aggregate, &analyticsv1.AggregateRequest{})
	if heavy != 9 || light != 2 {
		t.Fatalf("cost of 3 dimensions %v, of none %v; want 9 and 2", heavy, light)
	}
	if got := admitted(l, "heavy-analyst", Analytics, heavy, 100); got != 10 {
		t.Errorf("three-dimension calls admitted: %d, want 10 (90/9)", got)
	}
	if got := admitted(l, "light-analyst", Analytics, light, 100); got != 45 {
		t.Errorf("grand totals admitted: %d, want 45 (90/2)", got)
	}
	if got := admitted(l, "whole-table", Analytics, 500, 2); got != 1 {
		t.Errorf("calls dearer than the burst: %d admitted from a full bucket, want 1", got)
	}
	clk.Advance(8 * time.Second) // 80 tokens: not yet full
	if got := admitted(l, "whole-table", Analytics, 500, 1); got != 0 {
		t.Errorf("dear call admitted before the bucket is full again")
	}
	clk.Advance(time.Second)
	if got := admitted(l, "whole-table", Analytics, 500, 1); got != 1 {
		t.Errorf("dear call refused with the bucket full")
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	dims := func(n int) []analyticsv1.Dimension {
		out := make([]analyticsv1.Dimension, n)
		for i := range out {
			out[i] = analyticsv1.Dimension(i + 1)
		}
		return out
	}
	tests := []struct {
		method string
		req    any
		want   float64
	}{
		{analyticsv1.AnalyticsService_Aggregate_FullMethodName, &analyticsv1.AggregateRequest{GroupBy: dims(4)}, 17},
		{analyticsv1.AnalyticsService_Aggregate_FullMethodName, &analyticsv1.AggregateRequest{GroupBy: dims(9)}, 17},
		{analyticsv1.AnalyticsService_ExportAggregate_FullMethodName, &analyticsv1.ExportAggregateRequest{GroupBy: dims(1)}, 3},
		{analyticsv1.AnalyticsService_ExportVictimRecords_FullMethodName, &analyticsv1.ExportVictimRecordsRequest{}, 17},
		{analyticsv1.AnalyticsService_ListRegions_FullMethodName, &analyticsv1.ListRegionsRequest{}, 1},
		{analyticsv1.AnalyticsService_Aggregate_FullMethodName, nil, 1},
		{"/passage.intake.v1.IntakeService/ListCases", &analyticsv1.AggregateRequest{GroupBy: dims(4)}, 1},
	}
	for _, tt := range tests {
		if got := Cost(tt.method, tt.req); got != tt.want {
			t.Errorf("Cost(%s, %v) = %v, want %v", tt.method, tt.req, got, tt.want)
		}
	}
}

// TestMemoryBounded: a stream of new callers keeps the buckets within MaxBuckets, and does
// not evict an active flooder's bucket, which would hand it a full one.
func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t, map[Class]Limit{Read: {Rate: 1, Burst: 5}}, 1024)
	if got := admitted(l, "flooder", Read, 1, 10); got != 5 {
		t.Fatalf("flooder: %d admitted, want 5", got)
	}
	for i := range 100_000 {
		if err := l.Caller(context.Background(), fmt.Sprintf("caller-%d", i), Read, 1); err != nil {
			t.Fatalf("new caller %d refused: %v", i, err)
		}
		if i%8 == 0 && l.Caller(context.Background(), "flooder", Read, 1) == nil {
			t.Fatalf("flooder admitted again after %d new callers: its bucket was evicted", i)
		}
	}
	for i := range 10_000 {
		_ = l.Address(context.Background(), &net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)), Port: 1})
	}
	if n := l.len(); n > 2*1024 {
		t.Errorf("%d buckets held, want at most 1024 callers and 1024 addresses", n)
	}
}

func TestAddressLimit(t *testing.T) {
	t.Parallel()
	l, _, reader := newLimiter(t, map[Class]Limit{Unauthenticated: {Rate: 1, Burst: 3}}, 0)
	ctx := context.Background()
	probe := func(addr net.Addr, n int) int {
		ok := 0
		for range n {
			if l.Address(ctx, addr) == nil {
				ok++
			}
		}
		return ok
	}
	v6 := func(s string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(s), Port: 40000} }
	if got := probe(v6("2001:db8:1:2::1"), 10); got != 3 {
		t.Errorf("first address: %d admitted, want 3", got)
	}
	if got := probe(v6("2001:db8:1:2:ffff::9"), 1); got != 0 {
		t.Errorf("same /64: %d admitted, want 0: one host owns its /64", got)
	}
	if got := probe(v6("2001:db8:1:3::1"), 3); got != 3 {
		t.Errorf("another /64: %d admitted, want 3", got)
	}
	if got := probe(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 1}, 3); got != 3 {
		t.Errorf("an IPv4 address: %d admitted, want 3", got)
	}
	if got := refusals(t, reader); got[Unauthenticated] != 8 || len(got) != 1 {
		t.Errorf("refusals = %v, want unauthenticated 8 only", got)
	}
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 5}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 5}, "2001:db8::/64"},
		{&net.UnixAddr{Name: "/run/passage.sock", Net: "unix"}, "other"},
		{nil, "other"},
	}
	for _, tt := range tests {
		if got := AddressKey(tt.addr); got != tt.want {
			t.Errorf("AddressKey(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestNewRefusesBadLimits(t *testing.T) {
	t.Parallel()
	for _, l := range []Limit{{Rate: 0, Burst: 10}, {Rate: 1, Burst: 0.5}} {
		cfg := DefaultConfig()
		cfg.Limits.Set(Read, l)
		if _, err := New(cfg, sdkmetric.NewMeterProvider()); err == nil {
			t.Errorf("limit %s accepted", l)
		}
	}
}

// fromEnv reads a Config as the server does: the tags of Config, through internal/envconfig.
func fromEnv(env map[string]string) (Config, error) {
	var cfg Config
	err := envconfig.Parse(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return cfg, err
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	cfg, err := fromEnv(map[string]string{"PASSAGE_QUOTA_PARTNER": "5:10", "PASSAGE_QUOTA_READ": ""})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled || cfg.Limit(Partner) != (Limit{Rate: 5, Burst: 10}) || cfg.Limit(Read) != (Limit{Rate: 20, Burst: 40}) {
		t.Errorf("config = %+v", cfg)
	}
	if cfg, err := fromEnv(map[string]string{"PASSAGE_QUOTA": "off"}); err != nil || cfg.Enabled {
		t.Errorf("PASSAGE_QUOTA=off: %+v, %v", cfg, err)
	}
	for name, bad := range map[string][]string{
		"PASSAGE_QUOTA_WRITE": {"5", "5:", ":10", "x:10", "5:x", "-1:10", "NaN:10", "5:0", "Inf:10"},
		"PASSAGE_QUOTA":       {"yes", "true"},
	} {
		for _, v := range bad {
			if _, err := fromEnv(map[string]string{name: v}); err == nil {
				t.Errorf("%s=%q accepted", name, v)
			}
		}
	}
}

// retryDelay is the RetryInfo delay of a refusal.
func retryDelay(t *testing.T, err error) time.Duration {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("%v: no RetryInfo", err)
	return 0
}

// refusals reads the refusal counter by class, failing on any attribute but class.
func refusals(t *testing.T, reader *sdkmetric.ManualReader) map[Class]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[Class]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != MetricRefusals {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if p.Attributes.Len() != 1 {
					t.Errorf("refusal counter attributes %v, want class only", p.Attributes.ToSlice())
				}
				class, _ := p.Attributes.Value(attribute.Key("class"))
				out[Class(class.AsString())] += p.Value
			}
		}
	}
	return out
}
