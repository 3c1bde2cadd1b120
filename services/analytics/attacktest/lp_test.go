package attacktest

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// bounds is the minimum and maximum of c·x over {x ≥ 0 : A x = b}, by the package's simplex.
func bounds(t *testing.T, A [][]float64, b, c []float64) (lo, hi float64) {
	t.Helper()
	tab, err := feasible(A, b, len(c))
	if err != nil {
		t.Fatal(err)
	}
	lo, unbounded, ok := tab.minimize(c, nil, &tableau{})
	if unbounded || !ok {
		t.Fatalf("min of %v: unbounded %v, ok %v", c, unbounded, ok)
	}
	neg := make([]float64, len(c))
	for i, v := range c {
		neg[i] = -v
	}
	z, unbounded, ok := tab.minimize(neg, nil, &tableau{})
	if !ok {
		t.Fatalf("max of %v did not converge", c)
	}
	if unbounded {
		return lo, math.Inf(1)
	}
	return lo, -z
}

// TestSimplexBounds: the bounds of small systems whose answers are known by hand.
func TestSimplexBounds(t *testing.T) {
	t.Parallel()
	// x0 + x1 = 4, x1 + x2 = 6: x1 in [0, 4], x0 = 4 - x1, x2 = 6 - x1.
	A := [][]float64{{1, 1, 0}, {0, 1, 1}}
	b := []float64{4, 6}
	for _, tt := range []struct {
		c      []float64
		lo, hi float64
	}{
		{[]float64{1, 0, 0}, 0, 4},
		{[]float64{0, 1, 0}, 0, 4},
		{[]float64{0, 0, 1}, 2, 6},
		{[]float64{1, 0, 1}, 2, 10},
		{[]float64{1, 1, 1}, 6, 10},
	} {
		lo, hi := bounds(t, A, b, tt.c)
		if math.Abs(lo-tt.lo) > 1e-9 || math.Abs(hi-tt.hi) > 1e-9 {
			t.Errorf("%v: [%v, %v], want [%v, %v]", tt.c, lo, hi, tt.lo, tt.hi)
		}
	}
	// x0 - x1 = 0: x0 has no upper bound.
	if lo, hi := bounds(t, [][]float64{{1, -1}}, []float64{0}, []float64{1, 0}); lo != 0 || !math.IsInf(hi, 1) {
		t.Errorf("x0 = x1: [%v, %v], want [0, +Inf]", lo, hi)
	}
	// A row implied by another is dropped, not an obstacle.
	tab, err := feasible([][]float64{{1, 1}, {2, 2}}, []float64{3, 6}, 2)
	if err != nil || tab.m != 1 {
		t.Errorf("a redundant row: %v, %d rows left, want 1", err, tab.m)
	}
	// No non-negative solution.
	if _, err := feasible([][]float64{{1, 1}}, []float64{-1}, 2); !errors.Is(err, ErrInfeasible) {
		t.Errorf("x0 + x1 = -1: %v, want ErrInfeasible", err)
	}
	if _, err := feasible([][]float64{{1, 1, 0}, {1, 1, 1}}, []float64{5, 4}, 3); !errors.Is(err, ErrInfeasible) {
		t.Errorf("x0 + x1 = 5 and x0 + x1 + x2 = 4: %v, want ErrInfeasible", err)
	}
}

// TestSimplexAgreesWithGonum: on random 0/1 systems with a non-negative integer solution,
// the minimum and maximum of random 0/1 objectives match gonum's simplex.
func TestSimplexAgreesWithGonum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	compared := 0
	for range 60 {
		m, n := 2+r.IntN(6), 8+r.IntN(8)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(12))
		}
		A := make([][]float64, m)
		b := make([]float64, m)
		dense := mat.NewDense(m, n, nil)
		for i := range A {
			A[i] = make([]float64, n)
			for j := range n {
				if r.IntN(2) == 0 {
					A[i][j] = 1
					b[i] += x[j]
					dense.Set(i, j, 1)
				}
			}
		}
		c := make([]float64, n)
		for j := range c {
			c[j] = float64(r.IntN(2))
		}
		lo, hi := bounds(t, A, b, c)
		wantLo, _, err := lp.Simplex(c, dense, b, 1e-10, nil)
		if err != nil {
			continue // singular or a column of zeros: gonum's preconditions
		}
		neg := make([]float64, n)
		for j, v := range c {
			neg[j] = -v
		}
		wantHi := math.Inf(1)
		if z, _, err := lp.Simplex(neg, dense, b, 1e-10, nil); err == nil {
			wantHi = -z
		} else if !errors.Is(err, lp.ErrUnbounded) {
			continue
		}
		compared++
		if math.Abs(lo-wantLo) > 1e-6 || (math.Abs(hi-wantHi) > 1e-6 && !(math.IsInf(hi, 1) && math.IsInf(wantHi, 1))) {
			t.Errorf("A %v b %v c %v: [%v, %v], gonum [%v, %v]", A, b, c, lo, hi, wantLo, wantHi)
		}
	}
	if compared < 20 {
		t.Errorf("only %d systems compared", compared)
	}
}
