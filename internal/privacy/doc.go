// Package privacy releases counts under differential privacy for public figures, and keeps
// the ledger of the privacy budget each consumer of those figures has spent.
//
// The noise, the partition selection and the randomness are those of Google's differential
// privacy library (github.com/google/differential-privacy/go/v3, v3.0.0); this package only
// decides the parameters, checks them, and keeps the books. Nothing here writes noise by hand.
//
// # What is protected
//
// The privacy unit is the person: the guarantee is that whether any one person is in the data
// or not changes the probability of any release by at most a factor e^ε, except with
// probability δ. A Partition's Count must therefore count distinct persons (never events, never
// a person twice in one partition), and the caller states in Params.MaxPartitionsContributed
// how many partitions one person can be counted in: the L0 sensitivity.
//
//   - For a table whose dimensions are all single-valued (year, sex, host region, ...) a person
//     is in exactly one partition: 1.
//   - A multi-valued dimension (vulnerability, type of exploitation, means of control) counts
//     a person once in each category they hold, so they can be in as many partitions as the
//     vocabulary has codes. ContributionBound multiplies the per-dimension bounds. Use the
//     vocabulary's size unless the projection itself keeps at most some fewer codes per person:
//     a bound lower than what the data can hold silently breaks the guarantee.
//   - A person recorded twice (two cases, two departures in different years) is, to the data,
//     two contributions. When a table can count one person in several years, the bound must
//     include it.
//
// Counts have L∞ sensitivity 1 (a person adds one to each partition they are in), so the
// Laplace noise of each count has scale MaxPartitionsContributed / ε_counts.
//
// # Which partitions are released
//
// Partition keys come from the data: a category that only one victim of trafficking falls in
// ("forced marriage, from this country, this year") would reveal that person by its mere
// presence, whatever its noisy count. Release therefore keeps a partition only when the
// library's pre-aggregation partition selection (dpagg.PreAggSelectPartition) keeps it, with
// the (ε, δ) it is given: the probability of keeping a partition grows with the number of
// persons in it, from δ/L0 for one person to 1 beyond a threshold of roughly
// L0·ln(1/δ)/ε persons. A partition with no one in it is never released, so the caller never
// needs to list the categories that could exist.
//
// δ is the probability that selection lets a single person's partition through. It must be
// far below one over the number of persons in the data (69,000 persons returned in a year,
// ten million at most): MaxDelta bounds it at 1e-5 and DefaultDelta is 1e-7. Counts use the
// pure ε Laplace mechanism and add no δ.
//
// # How ε is split
//
// A release spends Params.Epsilon in total, by basic composition: half of it on partition
// selection and half on the counts (SelectionShare). Both are needed: selection without noisy
// counts would publish exact counts of the partitions it keeps, and noisy counts without
// selection would publish the existence of rare categories. Half and half is the usual
// starting point; a release of few, large partitions loses little by it. Per release, ε is at
// most MaxEpsilon.
//
// # Rounding and clamping
//
// The library adds discrete Laplace noise to integer counts (a two-sided geometric sample on a
// power-of-two grid), so results are whole numbers and no rounding is ours. A noisy count can
// be negative; Release clamps it at 0. Clamping is post-processing, so it costs no privacy,
// but it biases small counts upward: the published 0 stands for "small", and the mean of many
// releases of a small count is above the true count. Large counts are unbiased.
// Margin gives the half-width of a confidence interval of the noise, to publish beside the
// figures.
//
// # Spending twice
//
// Every call to Release draws fresh noise from a cryptographically secure source, and nothing
// is cached: the same request made twice returns two different answers and spends its ε twice.
// It must, since averaging repeated answers removes the noise. The Ledger records every spend;
// a client that retries a release after a dropped connection spends again.
//
// # The ledger
//
// analytics.privacy_ledger (migrations/000015_privacy_ledger.up.sql) holds one row per
// release: the consumer, when, the year it counts against, its ε, and a coded description of
// the query. Spend records a release only if the consumer's spends in that calendar year (UTC),
// this one included, stay within the yearly budget (PASSAGE_DP_YEARLY_EPSILON, default 10),
// and writes the audit record of the spend in the same transaction. Two concurrent spends of
// one consumer are serialized by a transaction-level advisory lock on the consumer, taken
// before the year's sum is read, so they can never together exceed the budget. The ledger is
// HQ's, like the HASM funds: it belongs to no mission, and only a transaction declared for HQ
// reads or adds to it. The analytics role may insert and read rows, never change or delete
// them.
package privacy
