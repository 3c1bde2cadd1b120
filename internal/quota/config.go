package quota

import (
	"fmt"
	"strconv"
	"strings"
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

// DefaultMaxBuckets bounds each keyspace (callers, addresses): about 200 bytes a bucket, so
// some 13 MiB each when full.
const DefaultMaxBuckets = 1 << 16

// Config says how many calls each caller and each address may make. The zero Config limits
// nothing; [DefaultConfig] is what a server runs with unless told otherwise.
type Config struct {
	// Enabled turns the limits on. Env PASSAGE_QUOTA: "on" (default) or "off", for a load
	// test that measures the server rather than a caller.
	Enabled bool
	// Limits is each class's limit; a class left out takes its default. Env
	// PASSAGE_QUOTA_<CLASS> (READ, WRITE, SEARCH, ANALYTICS, PARTNER, UNAUTHENTICATED), as
	// "RATE:BURST" in calls (analytics: cost units) per second and calls, e.g. "100:200".
	Limits map[Class]Limit
	// MaxBuckets bounds the buckets kept in each keyspace (callers, addresses); default
	// DefaultMaxBuckets.
	MaxBuckets int
}

// defaultLimits are sized for people and the scripts they run, not for load generators
// (which run with PASSAGE_QUOTA=off): a caseworker's screen or CLI reads a few times a second
// at most, and the flood was 1,922 ListCases a second. At 20 reads a second, a caller
// flooding ListCases left a colleague's p99 within 2x of its quiet value on the project's
// 2-core machine, where 100 a second did not (README, Benchmarks). An analyst may run 30
// grand totals a second, or 3.5 four-dimension tables (cost 17) after a burst of 14 of those.
var defaultLimits = map[Class]Limit{
	Read:            {Rate: 20, Burst: 40},
	Write:           {Rate: 50, Burst: 100},
	Search:          {Rate: 10, Burst: 20},
	Analytics:       {Rate: 60, Burst: 240},
	Partner:         {Rate: 20, Burst: 40},
	Unauthenticated: {Rate: 20, Burst: 40},
}

// DefaultConfig returns the limits a server runs with by default.
func DefaultConfig() Config {
	limits := make(map[Class]Limit, len(defaultLimits))
	for c, l := range defaultLimits {
		limits[c] = l
	}
	return Config{Enabled: true, Limits: limits, MaxBuckets: DefaultMaxBuckets}
}

// Limit returns class c's limit, its default when c is not configured.
func (c Config) Limit(class Class) Limit {
	if l, ok := c.Limits[class]; ok {
		return l
	}
	return defaultLimits[class]
}

// maxBuckets is MaxBuckets, or its default.
func (c Config) maxBuckets() int {
	if c.MaxBuckets <= 0 {
		return DefaultMaxBuckets
	}
	return c.MaxBuckets
}

// FromEnv returns [DefaultConfig] overridden by the PASSAGE_QUOTA* variables lookup finds
// (os.LookupEnv in a server).
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	if v, ok := lookup("PASSAGE_QUOTA"); ok && v != "" {
		switch v {
		case "on":
		case "off":
			cfg.Enabled = false
		default:
			return Config{}, fmt.Errorf("quota: PASSAGE_QUOTA=%q: want on or off", v)
		}
	}
	for _, class := range Classes() {
		name := "PASSAGE_QUOTA_" + strings.ToUpper(string(class))
		v, ok := lookup(name)
		if !ok || v == "" {
			continue
		}
		l, err := parseLimit(v)
		if err != nil {
			return Config{}, fmt.Errorf("quota: %s=%q: %w", name, v, err)
		}
		cfg.Limits[class] = l
	}
	return cfg, nil
}

// parseLimit reads "RATE:BURST", both positive, the burst at least 1 (one call).
func parseLimit(s string) (Limit, error) {
	rate, burst, ok := strings.Cut(s, ":")
	if !ok {
		return Limit{}, fmt.Errorf("want RATE:BURST, e.g. 100:200")
	}
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil || !(r > 0) || r > 1e9 {
		return Limit{}, fmt.Errorf("the rate must be a positive number of calls a second")
	}
	b, err := strconv.ParseFloat(burst, 64)
	if err != nil || !(b >= 1) || b > 1e9 {
		return Limit{}, fmt.Errorf("the burst must be a number of calls, at least 1")
	}
	return Limit{Rate: r, Burst: b}, nil
}
