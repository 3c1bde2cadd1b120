package privacy_test

import (
	"testing"

	"github.com/passage-cm/passage/internal/privacy"
)

func TestYearlyBudgetFromEnv(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  float64
	}{
		{"", privacy.DefaultYearlyEpsilon},
		{"2.5", 2.5},
		{"100", 100},
	} {
		t.Setenv("PASSAGE_DP_YEARLY_EPSILON", tc.value)
		if got, err := privacy.YearlyBudgetFromEnv(); err != nil || got != tc.want {
			t.Errorf("PASSAGE_DP_YEARLY_EPSILON=%q: %g, %v; want %g", tc.value, got, err, tc.want)
		}
	}
	for _, bad := range []string{"0", "-1", "ten", "NaN", "Inf", "+Inf", "1000", "1e400"} {
		t.Setenv("PASSAGE_DP_YEARLY_EPSILON", bad)
		if got, err := privacy.YearlyBudgetFromEnv(); err == nil {
			t.Errorf("PASSAGE_DP_YEARLY_EPSILON=%q accepted as %g", bad, got)
		}
	}
}
