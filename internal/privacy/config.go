package privacy

import (
	"math"
	"strconv"

	"github.com/passage-cm/passage/internal/envconfig"
)

// DefaultYearlyEpsilon is each consumer's yearly budget when PASSAGE_DP_YEARLY_EPSILON is
// unset: ten releases at MaxEpsilon (ε = 1), or twenty at ε = 0.5. A starting point, not advice: the data
// protection officer sets it.
const DefaultYearlyEpsilon = 10.0

// maxYearlyEpsilon bounds the setting: a yearly ε beyond it protects no one and is more likely
// a typing error (1000 for 10.00).
const maxYearlyEpsilon = 100.0

// YearlyBudget is the ε each consumer may spend in a calendar year, as
// PASSAGE_DP_YEARLY_EPSILON sets it (read by internal/envconfig): a number above 0 and at
// most 100.
type YearlyBudget float64

// UnmarshalText reads a number above 0 and at most 100.
func (y *YearlyBudget) UnmarshalText(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || !(f > 0) || f > maxYearlyEpsilon || math.IsInf(f, 0) {
		return envconfig.Reason("want a number above 0 and at most 100, e.g. 10")
	}
	*y = YearlyBudget(f)
	return nil
}
