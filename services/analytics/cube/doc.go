// Package cube is the analytics query engine: an in-memory, dictionary-encoded, columnar copy
// of the rollup (analytics.rollup, one count of persons per combination of every dimension),
// scanned by a tight loop per request.
//
// A GROUP BY in Postgres over ten million persons cannot answer within 50 ms; the rollup is
// already far smaller than the persons it counts, and held here as one uint32 column per
// dimension plus the counts, with each measure's rows listed apart, it is scanned in a few
// milliseconds. The copy is refreshed incrementally (Apply) from the rows the projector
// changed since the last refresh (see Loader); rows are upserted by key and never removed.
//
// Multi-valued dimensions (vulnerability, exploitation type) store a person's whole set of
// codes as one value, so that a count that does not group by them counts each person once;
// grouping by them explodes the set, and a person then counts under each code they have.
package cube
