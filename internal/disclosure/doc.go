// Package disclosure releases tables of counts of persons without revealing small groups. It
// is what stands between HQ analytics and the re-identification of a trafficking victim from
// a table: a cell of three women of one nationality returned from one country names those
// three to anyone who knows one of them.
//
// It offers two methods. Protect is the one HQ analytics answers with: one protected release
// of a population that every answer is derived from, safe when answers are combined. Suppress
// protects one table on its own; it is the method analytics used before, kept as the baseline
// the attack tests measure against (services/analytics/attacktest) and for a table that is
// published alone.
//
// # Who the protection is against
//
// An analyst, or anyone who sees published tables, who keeps every answer ever received (any
// measure, grouping, filter, year range, region or country view) and solves the system they
// form: released counts, zeros for the combinations an answer does not list, sums along rows
// and columns, additivity across filters and years, counts that are whole and not negative.
// They must not be able to pin any count from 1 to k-1 of any combination of dimensions, nor
// narrow one to an interval that leaves out both 0 and k. Differentially private answers are
// noisy and out of this system (internal/privacy bounds what they tell).
//
// Per-answer suppression fails this: each answer chose its complementary cells on its own,
// so two answers sharing cells hid different ones, and subtracting one from the other
// recovered the small counts (issue 13's worked example: 2 persons returned from Morocco to
// Nigeria, from a host-by-return table and a return-by-sex table of the same year).
//
// # One protected release per population (Protect)
//
// A population is one measure, one year, one programme (a block: years and programmes are
// disjoint, and a wider question is a sum of blocks). Its dimensions are split into release
// tables of at most three (MaxCoverDimensions): where (host country, return country), and
// sex, nationality, age band, vulnerability, each alone, and the measure's own. Protect computes,
// for one table of one block (a Cover), every entry: every combination of a node per
// dimension, a node being a value (a country), a group (its region) or all of it. It withholds
// every entry counting 1 to k-1 and, for each, finds a move that proves it could be empty:
// persons of the small entry, and as many of each entry on the even corners of a box around it
// (the hypercube method of tau-Argus, made of whole persons), change their value in one
// dimension to the box's other corner. Boxes that vary every dimension the entry names are
// tried first: their moves leave every margin as it is (a person who leaves a row comes back
// in another column), so the tables' totals, by host country or region, stay released; a
// smaller box, which withholds margins, only where no full box has room. Every entry whose
// count the move changes is withheld.
// The database so changed agrees with every released entry and has the small entry empty;
// the move is kept as a certificate (Certificates) that the tests replay on hundreds of
// random covers.
//
// Every number an analytics answer gives is an entry of a release, or the sum of one entry
// across blocks (a range of years, several programmes), and is released only if every part
// is. A question that would combine two tables (sex by nationality) is refused, and so is a
// filter by a set of values (several countries): the withheld entries of a line add up to the
// line's total less its released entries, and a set would ask for that sum. Differential
// privacy is offered for both. That is why combining answers gains nothing: whatever
// an analyst keeps, every released number is a sum of released entries, and each small entry
// has a move that changes only withheld entries of its own block and table. A move changes the
// values of one table's dimensions only, so the other tables' entries, which count other
// attributes of the same persons, are unchanged too; and it never changes an entry at the
// "all" level of the dimension it moves along, so the block's total, which every table
// releases, is unchanged. Each small count is therefore consistent with zero, whatever else
// is released, and no interval the analyst can derive leaves 0 out. A block counting fewer
// than k persons is withheld whole, and every sum that includes it with it.
//
// # Alternatives considered
//
//   - Per-answer suppression with a fixed grid of questions (what the previous doc asked of
//     callers): the grid's tables still share cells, and nothing enforced it.
//   - A per-analyst audit of queries that refuses the answer which would complete a system
//     (query auditing): exact auditing is expensive and itself leaks through its refusals,
//     and several analysts, or one with two accounts, pool their answers.
//   - Controlled rounding: every count released rounded, consistently with totals. Exact
//     figures are what the programmes report; rounding every cell of a caseload of a few
//     thousand hurts more than withholding the small ones.
//   - Differential privacy as the only path: right for public releases and ad-hoc questions
//     (offered: Aggregate and ExportAggregate with differential_privacy), but the yearly
//     reports need exact large counts.
//   - One release over every dimension at once: the hierarchy of all dimensions multiplies
//     into more small entries than persons, and almost everything would be withheld. Tables
//     of related dimensions keep the walk-through's figures exact where they are large.
//
// # What is not protected
//
//   - A withheld entry is listed with its keys. Most are non-empty, so a reader learns that
//     someone of those values exists; the corners of protection boxes are listed withheld too,
//     some of them empty, so a listed entry is not proof of anyone. An upper bound on a small
//     entry (how many it could hold at most) is not guaranteed to reach k.
//   - Unions of categories. The withheld entries of one line (the countries of a region
//     returned to one country, say) add up to the line's total less its released entries,
//     and that sum may be small: "persons returned to Gambia from Germany, Niger or Türkiye"
//     can be 7 and be known, though each of the three is consistent with 0. Such a union is
//     neither a node of the hierarchy nor a question the service answers; naming it takes
//     knowing which entries were withheld.
//   - Live data. A block's releases are recomputed when its counts change, each protected
//     afresh; two releases of one block, before and after a change, may together tell
//     something about the change (a person added), as any two publications of a moving
//     figure do. Closed years do not move.
//   - Different measures of the same persons (cases registered and persons returned) are
//     protected each on its own; inequalities between them (no more returned than
//     registered) are not used by the protection.
//   - The de-identified victim records (ExportVictimRecords, k-anonymity, internal/ctdc) are
//     a separate release; combined with exact tables they are protected only by their own
//     k-anonymity.
//   - Differential privacy is probabilistic: its guarantee is a bound on odds, not a
//     certainty.
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
// It does not protect across responses: two tables protected each on its own hide
// different cells of what they share, and combined they can pin a hidden count. That is
// what Protect is for (above).
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
