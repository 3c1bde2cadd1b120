package privacy_test

import (
	"testing"

	"github.com/passage-cm/passage/internal/privacy"
)

func TestYearlyBudget(t *testing.T) {
	for value, want := range map[string]float64{"2.5": 2.5, "100": 100} {
		var y privacy.YearlyBudget
		if err := y.UnmarshalText([]byte(value)); err != nil || float64(y) != want {
			t.Errorf("PASSAGE_DP_YEARLY_EPSILON=%q: %g, %v; want %g", value, float64(y), err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "ten", "NaN", "Inf", "+Inf", "1000", "1e400"} {
		var y privacy.YearlyBudget
		if err := y.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("PASSAGE_DP_YEARLY_EPSILON=%q accepted as %g", bad, float64(y))
		}
	}
}
