package aggbench

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBenchRequests: every call the bench draws is one the service accepts: a measure, at
// most max distinct dimensions, each meaningful for the measure.
func TestRequests(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	seen := map[int]int{}
	for range 2000 {
		req := Request(r, 3)
		if len(req.GroupBy) > 3 {
			t.Fatalf("%d dimensions", len(req.GroupBy))
		}
		seen[len(req.GroupBy)]++
		for i, d := range req.GroupBy {
			if !slices.Contains(Dims[req.Measure], d) {
				t.Fatalf("%v grouped by %v, which the service refuses", req.Measure, d)
			}
			if slices.Contains(req.GroupBy[:i], d) {
				t.Fatalf("%v twice", d)
			}
		}
		if f := req.GetFilter(); f != nil && f.GetYearFrom() > f.GetYearTo() {
			t.Fatalf("years %d to %d", f.GetYearFrom(), f.GetYearTo())
		}
	}
	for n := 0; n <= 3; n++ {
		if seen[n] == 0 {
			t.Errorf("no call with %d dimensions in 2000", n)
		}
	}
}
