package quota

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Meter is the name of the meter the limiter's instrument is created on.
const Meter = "github.com/passage-cm/passage/internal/quota"

// MetricRefusals counts the calls refused for being over a limit, by class (Prometheus:
// passage_quota_refusals_total{class="read"}).
const MetricRefusals = "passage.quota.refusals"

// Limiter holds the buckets of every caller and every source address of one server. It is
// safe for concurrent use.
type Limiter struct {
	cfg       Config
	callers   *store
	addresses *store
	refusals  metric.Int64Counter
	classAttr map[Class]metric.AddOption
	now       func() time.Time
}

// Option changes a Limiter.
type Option func(*Limiter)

// WithClock makes the limiter read the time from now rather than the system clock, for
// tests that refill buckets without waiting.
func WithClock(now func() time.Time) Option {
	return func(l *Limiter) { l.now = now }
}

// New returns a limiter enforcing cfg's limits (enabled or not: whoever holds a Limiter
// wants it enforced), counting its refusals on mp's meter.
func New(cfg Config, mp metric.MeterProvider, opts ...Option) (*Limiter, error) {
	for _, class := range Classes() {
		if l := cfg.Limit(class); !(l.Rate > 0) || !(l.Burst >= 1) {
			return nil, fmt.Errorf("quota: class %s: limit %s: want a positive rate and a burst of at least 1", class, l)
		}
	}
	refusals, err := mp.Meter(Meter).Int64Counter(MetricRefusals, metric.WithUnit("{call}"),
		metric.WithDescription("Calls refused RESOURCE_EXHAUSTED for being over their caller's or address's limit, by class"))
	if err != nil {
		return nil, fmt.Errorf("quota: %w", err)
	}
	l := &Limiter{
		cfg: cfg, callers: newStore(cfg.maxBuckets()), addresses: newStore(cfg.maxBuckets()),
		refusals: refusals, classAttr: make(map[Class]metric.AddOption), now: time.Now,
	}
	for _, class := range Classes() {
		l.classAttr[class] = metric.WithAttributeSet(attribute.NewSet(attribute.String("class", string(class))))
	}
	for _, o := range opts {
		o(l)
	}
	return l, nil
}

// Caller takes cost from the bucket of the caller subject (a token's sub claim) for class,
// and returns nil, or the RESOURCE_EXHAUSTED status to answer when the bucket is short.
func (l *Limiter) Caller(ctx context.Context, subject string, class Class, cost float64) error {
	ok, wait := l.callers.take(string(class)+"\x00"+subject, l.cfg.Limit(class), cost, l.now())
	if ok {
		return nil
	}
	return l.refuse(ctx, class, wait)
}

// Address takes one call from the unauthenticated bucket of the source address addr (a
// gRPC peer's), and returns nil or the RESOURCE_EXHAUSTED status to answer. Addresses that
// are not IP addresses (an in-memory pipe) share one bucket.
func (l *Limiter) Address(ctx context.Context, addr net.Addr) error {
	ok, wait := l.addresses.take(AddressKey(addr), l.cfg.Limit(Unauthenticated), 1, l.now())
	if ok {
		return nil
	}
	return l.refuse(ctx, Unauthenticated, wait)
}

// PartnerAddress takes one call from the partner bucket of the source address addr (the
// partner's own address, also for calls through the HTTP gateway), after the call took from
// its partner's bucket ([Limiter.Caller], class [Partner]): one address holding several
// partners' tokens gets one address's share, not one per token.
func (l *Limiter) PartnerAddress(ctx context.Context, addr net.Addr) error {
	ok, wait := l.addresses.take(string(PartnerAddress)+"\x00"+AddressKey(addr), l.cfg.Limit(PartnerAddress), 1, l.now())
	if ok {
		return nil
	}
	return l.refuse(ctx, PartnerAddress, wait)
}

// refuse counts a refusal and builds its status.
func (l *Limiter) refuse(ctx context.Context, class Class, wait time.Duration) error {
	l.refusals.Add(ctx, 1, l.classAttr[class])
	return Refusal(class, wait)
}

// Refusal is the status a call of class over its limit gets: RESOURCE_EXHAUSTED, a RetryInfo
// of wait (rounded up to the millisecond), and a QuotaFailure whose violation's subject is
// "class:<class>". It names no caller and no address.
func Refusal(class Class, wait time.Duration) error {
	wait = (wait + time.Millisecond - 1).Truncate(time.Millisecond)
	per := "caller"
	if class == Unauthenticated {
		per = "source address"
	}
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("too many %s calls: retry in %s", class, wait))
	detailed, err := st.WithDetails(
		&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)},
		&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{
			Subject:     "class:" + string(class),
			Description: fmt.Sprintf("%s calls are limited per %s", class, per),
		}}})
	if err != nil {
		return st.Err()
	}
	return detailed.Err()
}

// AddressKey is the bucket key of a source address: the IP, an IPv6 address's /64, or
// "other" for an address that is not IP (an in-memory pipe, a Unix socket).
func AddressKey(addr net.Addr) string {
	if addr == nil {
		return "other"
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return "other"
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// len counts the buckets held, callers and addresses together.
func (l *Limiter) len() int { return l.callers.len() + l.addresses.len() }
