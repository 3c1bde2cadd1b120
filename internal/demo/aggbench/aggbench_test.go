package aggbench

import (
	"math/rand/v2"
	"slices"
	"testing"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// TestRequests: every call the bench draws groups by at most max distinct dimensions of one
// table of its measure, with the year and the programme (services/analytics checks that the
// service accepts them all).
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
		inTable := func(table []analyticsv1.Dimension) bool {
			for _, d := range req.GroupBy {
				if d != analyticsv1.Dimension_DIMENSION_YEAR && d != analyticsv1.Dimension_DIMENSION_PROGRAMME && !slices.Contains(table, d) {
					return false
				}
			}
			return true
		}
		if !slices.ContainsFunc(Tables[req.Measure], inTable) {
			t.Fatalf("%v grouped by %v: not one table", req.Measure, req.GroupBy)
		}
		for i, d := range req.GroupBy {
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
