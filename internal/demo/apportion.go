package demo

import (
	"fmt"
	"math"
	"slices"
)

// apportion splits total into len(weights) whole counts proportional to the weights by the
// largest-remainder (Hamilton) method: each count is its exact quota rounded down, and the
// units left over go to the largest fractional parts (ties to the earlier index). Every
// count is then within one of its exact quota and the counts sum to total, which is what
// makes a published percentage come back from the counts at any scale the total allows.
func apportion(total int, weights []float64) []int {
	out := make([]int, len(weights))
	if total <= 0 || len(weights) == 0 {
		return out
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 {
		return out
	}
	type rest struct {
		i    int
		frac float64
	}
	rests := make([]rest, len(weights))
	given := 0
	for i, w := range weights {
		q := float64(total) * w / sum
		out[i] = int(q)
		given += out[i]
		rests[i] = rest{i, q - float64(out[i])}
	}
	slices.SortStableFunc(rests, func(a, b rest) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return 0
	})
	for k := 0; given < total; k++ {
		out[rests[k%len(rests)].i]++
		given++
	}
	return out
}

// apportionAtLeastOne is apportion with one unit set aside for every weight first, so that
// every category (a country) is present; total must be at least len(weights).
func apportionAtLeastOne(total int, weights []float64) ([]int, error) {
	if total < len(weights) {
		return nil, fmt.Errorf("cannot give %d categories one each out of %d", len(weights), total)
	}
	out := apportion(total-len(weights), weights)
	for i := range out {
		out[i]++
	}
	return out, nil
}

// zipf returns n weights falling with rank, 1/(rank+1)^s: the first countries of a region
// carry most of its caseload, as they do in the published tables.
func zipf(n int, s float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), s)
	}
	return w
}
