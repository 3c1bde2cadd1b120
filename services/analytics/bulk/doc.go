// Package bulk fills HQ analytics with millions of synthetic persons, fast, for load tests
// and benchmarks: `passage demo load --persons 10000000`.
//
// It writes what the analytics projector would have written for them, straight into the
// anonymised tables (analytics.fact with COPY, analytics.rollup aggregated in memory and
// merged in one statement), and nothing else: no case, no vault row, no outbox event. It is
// therefore no test of the services (passage demo seed loads a caseload through their APIs);
// it is the data set on which the Aggregate engine's speed is measured. Its facts carry
// negative event ids, which the outbox never assigns, so they are told apart from projected
// ones and can be removed with `DELETE FROM analytics.fact WHERE event_id < 0` (the rollup
// then rebuilt from the facts).
//
// The persons are drawn from seeded, skewed distributions shaped like IOM's caseload:
// programmes (mostly AVRR), host regions and return regions in the seed's 2015 shares,
// countries Zipf-distributed within their region, nationalities mostly returning home and
// mostly hosted along a few corridors, 76% men in AVRR, small shares of vulnerabilities,
// households, assistance after return, victims identified with their exploitation types.
// The same seed gives the same data.
package bulk
