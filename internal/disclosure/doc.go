// Package disclosure releases tables of counts of persons without revealing small groups:
// primary and complementary small-cell suppression over up to four dimensions, with every
// total. It is what stands between HQ analytics and the re-identification of a trafficking
// victim from a table: a cell of three women of one nationality returned from one country
// names those three to anyone who knows one of them.
//
// # What Suppress does
//
// Suppress(t, k) returns every cell and every total (over each proper subset of the
// dimensions, down to the grand total). Primary suppression hides every count from 1 to
// k-1 (DefaultK = 11, the CTDC's threshold); zero is released, an empty cell naming nobody.
// Complementary suppression then hides enough other entries that no hidden count can be
// worked out from what is released:
//   - each primary entry becomes a corner of a box of hidden entries: a second coordinate
//     in each dimension (another category or the total), and the 2^d entries they span
//     all hidden (the hypercube method of tau-ARGUS). The box chosen is the one whose newly
//     hidden counts add up least, among the cheapest few coordinates per dimension (hidden
//     entries not yet on a box first); a primary entry already a corner of a box chosen for
//     another keeps that box;
//   - then, as a rule that holds independently of the boxes, every line (the entries that
//     differ in one dimension, with their total), in every direction, that holds a hidden
//     entry holds at least two, each complement the smallest positive count of its line,
//     repeated to a fixed point.
//
// Hidden entries are not zeros (a hidden zero would bound its neighbour by its true value),
// but for one case: along a multi-valued dimension, a total counting persons without any
// category may leave nothing else on its line to hide.
//
// # What it protects against, and what not
//
// Within one response it protects against subtraction (a hidden count as a released total
// minus released cells, along any line, repeated with whatever that yields: no line ever
// has a single hidden entry), and more: against any linear combination of the response's
// lines, and against linear programming with the knowledge that counts are not negative.
// Each small count sits on a box whose corners can all move together (alternating signs)
// without changing any released number, so the response is as consistent with p+1 as with
// p, and with p minus the smallest of its box's same-sign corners (along additive
// dimensions; a multi-valued one adds only loose inequalities). The tests attack every
// release by subtraction and by Gaussian elimination and recover no small count; the line
// rule alone, without boxes, let elimination recover one in about one random table in
// eleven.
//
// It does not protect across responses. Two requests with different filters (a year
// range, then the same range less one month; a region, then the region less one country)
// can be subtracted from each other, and enough overlapping tables define a linear program
// whose bounds may pin a hidden count. Neither does it hide existence: a hidden cell is
// still listed with its keys, so a reader learns that someone of that nationality returned
// from that country. Callers must therefore:
//   - release only tables built from a fixed, published grid of dimensions and filters
//     (whole years, whole regions or countries, the programmes), never arbitrary ones;
//   - keep the same k and the same grid for a consumer across requests, and prefer
//     differential privacy (internal/privacy) for anything public or repeated at will;
//   - list hidden cells only where the reader may know the category exists, or drop them.
//
// # Multi-valued dimensions
//
// A person can be in several categories of a dimension such as vulnerability or type of
// exploitation: counted once in each, so the categories do not add up to the persons. Such
// a dimension is flagged in Table.MultiValued, and the caller gives its totals (distinct
// persons, computed by the engine), which Suppress checks (no category above its total)
// but cannot derive. Along such a dimension the released numbers make no equation: the
// categories add up to at least the persons with any category, and persons with none make
// even that loose. Protection there means the same rule as if the categories were
// disjoint (an attacker may guess that few people are in two), so it is at least as strong
// as for an additive dimension; totals over the other dimensions stay exact sums and are
// protected as usual.
package disclosure
