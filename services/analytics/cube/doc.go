// Package cube is the analytics query engine: an in-memory, dictionary-encoded, columnar copy
// of the rollup (analytics.rollup, one count of persons per combination of every dimension),
// scanned by a tight loop per request.
//
// A GROUP BY in Postgres over ten million persons cannot answer within 50 ms; the rollup is
// already far smaller than the persons it counts (2.7 million rows for ten million synthetic
// persons), and held here per measure, as one 16-bit column of dictionary ids per stored
// dimension plus the counts, it is scanned in a few milliseconds, split across GOMAXPROCS
// goroutines. Beside the rollup each measure is kept at four coarser grains (the three
// country columns dropped or coarsened to their regions but one), tens of times smaller
// where no country is read; each query scans the smallest grain that holds every dimension
// it groups or filters by. The copy is refreshed incrementally (Apply) from the rows the
// projector changed since the last refresh (see Loader): rows are upserted by key and never
// removed, and each coarser grain moves by the difference, so that every grain stays exact.
//
// A query whose dimensions' values, each with a slot for its total, multiply to at most two
// million (nationality by host country by year, say) is scanned into a dense array over every
// combination, totals included, numbered in the order of the values as strings: the totals
// are then filled in by adding along each dimension (a multi-valued one by its sets, then
// spread to their members), and the array read in order is the answer in key order, without
// a hash or a sort (dense.go). Larger ones (three countries) are scanned into a reduced table
// keyed by the grouped ids, then expanded into cells and totals.
//
// Multi-valued dimensions (vulnerability, exploitation type) store a person's whole set of
// codes as one value, so that a count that does not group by them counts each person once;
// grouping by them explodes the set, and a person then counts under each code they have.
//
// Adding a stored dimension is a field of Row, a constant before HostRegion, and a line in
// columns; a new country-like column that should be dropped from the small grains is a
// treatment in grains.
package cube
