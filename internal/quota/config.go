package quota

import (
	"strconv"
	"strings"

	"github.com/passage-cm/passage/internal/envconfig"
)

// Limit is one class's token bucket: Rate tokens a second refill it, up to Burst. A call
// takes 1 token ([Cost] for analytics); a call that costs more than Burst waits for a full
// bucket and takes it all.
type Limit struct {
	Rate  float64
	Burst float64
}

// String is the limit as PASSAGE_QUOTA_<CLASS> spells it, "RATE:BURST".
func (l Limit) String() string {
	return strconv.FormatFloat(l.Rate, 'g', -1, 64) + ":" + strconv.FormatFloat(l.Burst, 'g', -1, 64)
}

// UnmarshalText reads "RATE:BURST", both positive, the burst at least 1 (one call).
func (l *Limit) UnmarshalText(b []byte) error {
	rate, burst, ok := strings.Cut(string(b), ":")
	if !ok {
		return envconfig.Reason("want RATE:BURST, e.g. 100:200")
	}
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil || !(r > 0) || r > 1e9 {
		return envconfig.Reason("the rate must be a positive number of calls a second")
	}
	n, err := strconv.ParseFloat(burst, 64)
	if err != nil || !(n >= 1) || n > 1e9 {
		return envconfig.Reason("the burst must be a number of calls, at least 1")
	}
	*l = Limit{Rate: r, Burst: n}
	return nil
}

// DefaultMaxBuckets bounds each keyspace (callers, addresses): about 200 bytes a bucket, so
// some 13 MiB each when full.
const DefaultMaxBuckets = 1 << 16

// Config says how many calls each caller and each address may make. The zero Config limits
// nothing; [DefaultConfig] is what a server runs with unless told otherwise. Its env tags
// are read by internal/envconfig (with the server's configuration, in internal/bootstrap).
type Config struct {
	// Enabled turns the limits on; off is for a load test that measures the server rather
	// than a caller.
	Enabled envconfig.Switch `env:"PASSAGE_QUOTA" default:"on" help:"per-caller and per-address rate limits ({internal/quota}); {off} for a load test that measures the server rather than one caller; with {--dev} they are off unless set to {on}, since {passage demo seed} sends thousands of calls a second under one token per mission"`
	// Limits is each class's limit.
	Limits Limits
	// MaxBuckets bounds the buckets kept in each keyspace (callers, addresses); default
	// DefaultMaxBuckets.
	MaxBuckets int
}

// Limits holds a limit per class. The defaults are sized for people and the scripts they
// run, not for load generators (which run with PASSAGE_QUOTA=off): a caseworker's screen or
// CLI reads a few times a second at most, and the flood of issue 15 was 1,922 ListCases a
// second. At 20 reads a second, a caller flooding ListCases left a colleague's p99 within
// 2x of its quiet value on the project's 2-core machine, where 100 a second did not (see
// docs/benchmarks/quotas.md). An analyst may run 30 grand totals a second, or 3.5
// four-dimension tables (cost 17) after a burst of 14 of those. A caseworker searches for the
// person at the counter a few times a minute; a script walking the register by dates of
// birth or phone numbers would need hundreds of thousands of searches, some 4 days for
// 200,000 at 0.5 a second, each one audited.
type Limits struct {
	Read            Limit `env:"PASSAGE_QUOTA_READ" default:"20:40" help:"reads' token bucket per token subject, {RATE:BURST}: calls a second and calls at once"`
	Write           Limit `env:"PASSAGE_QUOTA_WRITE" default:"50:100" help:"writes' token bucket per token subject"`
	Search          Limit `env:"PASSAGE_QUOTA_SEARCH" default:"0.5:10" help:"person searches' token bucket per token subject: 30 a minute after a burst of 10, so that a stolen token cannot walk a mission's register"`
	Analytics       Limit `env:"PASSAGE_QUOTA_ANALYTICS" default:"60:240" help:"analytics' token bucket per token subject, in cost units: a table of n dimensions costs 1 + 2ⁿ"`
	Partner         Limit `env:"PASSAGE_QUOTA_PARTNER" default:"20:40" help:"the token bucket of every call of a partner's token"`
	Unauthenticated Limit `env:"PASSAGE_QUOTA_UNAUTHENTICATED" default:"20:40" help:"the token bucket per source address of health checks, reflection and refused tokens"`
	PartnerAddress  Limit `env:"PASSAGE_QUOTA_PARTNER_ADDRESS" default:"40:80" help:"the token bucket per source address of partner calls, whichever partner's token they carry: an address cannot multiply its share with several partners' tokens"`
}

// field is the Limits field of class c.
func (l *Limits) field(c Class) *Limit {
	switch c {
	case Read:
		return &l.Read
	case Write:
		return &l.Write
	case Search:
		return &l.Search
	case Analytics:
		return &l.Analytics
	case Partner:
		return &l.Partner
	case Unauthenticated:
		return &l.Unauthenticated
	case PartnerAddress:
		return &l.PartnerAddress
	}
	return nil
}

// Set sets class c's limit.
func (l *Limits) Set(c Class, limit Limit) {
	if f := l.field(c); f != nil {
		*f = limit
	}
}

// defaultConfig is the configuration the tags' defaults make.
var defaultConfig = func() Config {
	c := Config{MaxBuckets: DefaultMaxBuckets}
	if err := envconfig.Defaults(&c); err != nil {
		panic("quota: the defaults in Config's tags do not parse: " + err.Error())
	}
	return c
}()

// DefaultConfig returns the limits a server runs with by default.
func DefaultConfig() Config {
	return defaultConfig
}

// Limit returns class c's limit, its default when c is not configured.
func (c Config) Limit(class Class) Limit {
	if l := c.Limits.field(class); l != nil && *l != (Limit{}) {
		return *l
	}
	if l := defaultConfig.Limits.field(class); l != nil {
		return *l
	}
	return Limit{}
}

// maxBuckets is MaxBuckets, or its default.
func (c Config) maxBuckets() int {
	if c.MaxBuckets <= 0 {
		return DefaultMaxBuckets
	}
	return c.MaxBuckets
}
