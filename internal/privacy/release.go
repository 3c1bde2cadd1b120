package privacy

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/google/differential-privacy/go/v3/dpagg"
	"github.com/google/differential-privacy/go/v3/noise"
)

// Bounds on the parameters of one release (see the package doc for why).
const (
	// MaxEpsilon is the most one release may spend, and the one number for it: the contract's
	// rule on passage.analytics.v1.DifferentialPrivacy.epsilon (lte) must equal it, which a
	// test in services/analytics reads from the descriptor.
	//
	// Why 1. At ε = 1 an observer's odds on any one person's presence move by at most
	// e ≈ 2.7 per release; at 2 they could move by e² ≈ 7.4. Large statistical programmes
	// spend more in total (the US Census Bureau's 2020 redistricting data, some 17 in ε for
	// the whole country's persons, over thousands of tables), but that total is spread over
	// millions of people per table and is published once. Passage's tables count caseloads of
	// a few thousand persons, victims of trafficking among them, with a yearly budget that
	// several releases draw on: per release, 1 is the prudent cap, and the default budget
	// (DefaultYearlyEpsilon) is ten releases at it. Beyond it the noise on the small counts
	// that matter here protects little; a budget is better spent on several releases at 1
	// or less.
	MaxEpsilon = 1.0
	// MaxDelta bounds the chance that partition selection lets a single person's category
	// through. It must stay far below one over the number of persons in the data.
	MaxDelta = 1e-5
	// DefaultDelta is the δ to use when there is no reason to choose another: below one over
	// the ten million persons the analytics service is built for.
	DefaultDelta = 1e-7
	// SelectionShare is the part of a release's ε spent on partition selection; the rest
	// noises the counts.
	SelectionShare = 0.5
)

// Params are a release's privacy parameters.
type Params struct {
	// Epsilon is the ε the whole release spends (selection and counts), in (0, MaxEpsilon].
	// It is what the Ledger records.
	Epsilon float64
	// Delta is the δ of partition selection, in (0, MaxDelta].
	Delta float64
	// MaxPartitionsContributed is the most partitions one person can be counted in (the L0
	// sensitivity): 1 when every dimension is single-valued; see ContributionBound.
	MaxPartitionsContributed int64
}

// Partition is one cell of a table: its keys (one per dimension, in order) and the number of
// distinct persons in it.
type Partition struct {
	Keys  []string
	Count int64
}

// Release returns the partitions the library's pre-aggregation partition selection keeps,
// each with its count plus Laplace noise, clamped at 0, sorted by their keys. Every call draws
// fresh noise and spends p.Epsilon: record it in the Ledger before computing it. parts must be
// distinct (no two with the same keys), all with as many keys, and counts of persons (not
// negative).
//
// The result is sorted by keys, not left in the order given, because an order is itself a
// statistic: partitions listed by true count (largest first, say) would publish the exact
// ranking of the released ones. Sorting by the noisy counts afterwards is safe.
func Release(p Params, parts []Partition) ([]Partition, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := validatePartitions(parts); err != nil {
		return nil, err
	}
	selectEps, countEps := p.split()
	out := make([]Partition, 0, len(parts))
	for _, part := range parts {
		keep, err := selectPartition(selectEps, p.Delta, p.MaxPartitionsContributed, part.Count)
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		n, err := noisyCount(countEps, p.MaxPartitionsContributed, part.Count)
		if err != nil {
			return nil, err
		}
		out = append(out, Partition{Keys: slices.Clone(part.Keys), Count: n})
	}
	slices.SortFunc(out, func(a, b Partition) int { return slices.Compare(a.Keys, b.Keys) })
	return out, nil
}

// Margin returns the half-width of the interval that holds a released count's noise with
// probability confidence (e.g. 0.95), for publishing beside the figures: a released count n
// stands for a true count in [n-margin, n+margin] at that confidence (before clamping at 0).
func Margin(p Params, confidence float64) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if !(confidence > 0 && confidence < 1) {
		return 0, invalid("confidence", "must be between 0 and 1, exclusive")
	}
	_, countEps := p.split()
	ci, err := noise.Laplace().ComputeConfidenceIntervalInt64(0, p.MaxPartitionsContributed, 1, countEps, 0, 1-confidence)
	if err != nil {
		return 0, fmt.Errorf("privacy: confidence interval: %w", err)
	}
	return (ci.UpperBound - ci.LowerBound) / 2, nil
}

// maxContributionBound keeps the L0 sensitivity where the library's arithmetic is exact;
// a bound anywhere near it would drown every count in noise anyway.
const maxContributionBound = 1 << 20

// ContributionBound returns MaxPartitionsContributed for a table whose dimension i lets one
// person hold at most valuesPerPerson[i] values at once: 1 for a single-valued dimension, the
// number of codes of a multi-valued one (vulnerability, type of exploitation), unless the
// data itself holds fewer per person. It is their product.
func ContributionBound(valuesPerPerson ...int64) (int64, error) {
	bound := uint64(1)
	for _, v := range valuesPerPerson {
		if v < 1 {
			return 0, invalid("max_partitions_contributed", "needs at least one value per person in every dimension")
		}
		hi, lo := bits.Mul64(bound, uint64(v))
		if hi != 0 || lo > maxContributionBound {
			return 0, invalid("max_partitions_contributed", fmt.Sprintf("is above %d", maxContributionBound))
		}
		bound = lo
	}
	return int64(bound), nil
}

// Validate checks p as Release does. Check before spending: a release refused after its ε is
// recorded would have spent it for nothing.
func (p Params) Validate() error {
	switch {
	case !(p.Epsilon > 0) || p.Epsilon > MaxEpsilon: // !(x > 0) also refuses NaN
		return invalid("epsilon", fmt.Sprintf("must be above 0 and at most %g", MaxEpsilon))
	case !(p.Delta > 0) || p.Delta > MaxDelta:
		return invalid("delta", fmt.Sprintf("must be above 0 and at most %g", MaxDelta))
	case p.MaxPartitionsContributed < 1 || p.MaxPartitionsContributed > maxContributionBound:
		return invalid("max_partitions_contributed", fmt.Sprintf("must be between 1 and %d", maxContributionBound))
	}
	// The library refuses an ε below 2⁻⁵⁰ per mechanism; say so in our terms, before any work.
	selectEps, countEps := p.split()
	if selectEps < 0x1p-50 || countEps < 0x1p-50 {
		return invalid("epsilon", "is too small to split between selection and counts")
	}
	return nil
}

// split returns the ε of partition selection and the ε of the counts; they add up to
// p.Epsilon.
func (p Params) split() (selection, counts float64) {
	selection = p.Epsilon * SelectionShare
	return selection, p.Epsilon - selection
}

func validatePartitions(parts []Partition) error {
	seen := make(map[string]struct{}, len(parts))
	for i, part := range parts {
		if part.Count < 0 {
			return invalid("partitions", "holds a negative count")
		}
		if len(part.Keys) != len(parts[0].Keys) {
			return invalid("partitions", "differ in their number of keys")
		}
		// A partition listed twice would count its persons twice, past the sensitivity the
		// noise is scaled to. Keys are joined with a separator no key may contain.
		for _, k := range part.Keys {
			if strings.ContainsRune(k, 0) {
				return invalid("partitions", "holds a key with a NUL character")
			}
		}
		id := strings.Join(part.Keys, "\x00")
		if _, dup := seen[id]; dup {
			return invalid("partitions", fmt.Sprintf("lists partition %d twice", i))
		}
		seen[id] = struct{}{}
	}
	return nil
}

// selectPartition is the library's pre-aggregation partition selection for a partition of
// persons persons.
func selectPartition(epsilon, delta float64, l0, persons int64) (bool, error) {
	sel, err := dpagg.NewPreAggSelectPartition(&dpagg.PreAggSelectPartitionOptions{
		Epsilon: epsilon, Delta: delta, MaxPartitionsContributed: l0,
	})
	if err != nil {
		return false, fmt.Errorf("privacy: partition selection: %w", err)
	}
	if err := sel.IncrementBy(persons); err != nil {
		return false, fmt.Errorf("privacy: partition selection: %w", err)
	}
	keep, err := sel.ShouldKeepPartition()
	if err != nil {
		return false, fmt.Errorf("privacy: partition selection: %w", err)
	}
	return keep, nil
}

// noisyCount is the library's Laplace mechanism on a count of persons persons (what
// dpagg.Count.Result does, without the throwaway draw dpagg.NewCount makes to check its
// parameters: the draws are most of a release's time), clamped at 0. The L∞ sensitivity of a
// count of distinct persons is 1.
func noisyCount(epsilon float64, l0, persons int64) (int64, error) {
	n, err := noise.Laplace().AddNoiseInt64(persons, l0, 1, epsilon, 0)
	if err != nil {
		return 0, fmt.Errorf("privacy: count: %w", err)
	}
	// Post-processing, free of privacy cost: a count of persons is never negative.
	return max(n, 0), nil
}
