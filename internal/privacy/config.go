package privacy

import (
	"fmt"
	"math"
	"os"
	"strconv"
)

// DefaultYearlyEpsilon is each consumer's yearly budget when PASSAGE_DP_YEARLY_EPSILON is
// unset: ten releases at MaxEpsilon (ε = 1), or twenty at ε = 0.5. A starting point, not advice: the data
// protection officer sets it.
const DefaultYearlyEpsilon = 10.0

// maxYearlyEpsilon bounds the setting: a yearly ε beyond it protects no one and is more likely
// a typing error (1000 for 10.00).
const maxYearlyEpsilon = 100.0

// YearlyBudgetFromEnv reads PASSAGE_DP_YEARLY_EPSILON, the ε each consumer may spend in a
// calendar year: a number above 0 and at most 100, DefaultYearlyEpsilon when unset.
func YearlyBudgetFromEnv() (float64, error) {
	return yearlyBudget(os.Getenv("PASSAGE_DP_YEARLY_EPSILON"))
}

func yearlyBudget(v string) (float64, error) {
	if v == "" {
		return DefaultYearlyEpsilon, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > maxYearlyEpsilon || math.IsInf(f, 0) {
		return 0, fmt.Errorf("PASSAGE_DP_YEARLY_EPSILON must be a number above 0 and at most %g, e.g. %g", maxYearlyEpsilon, DefaultYearlyEpsilon)
	}
	return f, nil
}
