package attacktest

import (
	"errors"
	"math"
)

// tol is the simplex's tolerance: a pivot smaller than it is taken as zero. The programs
// here are 0/1 matrices with integer right-hand sides, whose tableaux hold small rationals.
const tol = 1e-9

// maxPivots bounds one optimisation; a program that needs more is answered "no bound",
// which can only make the attacker know less.
const maxPivots = 20000

// ErrInfeasible is returned for a system that no non-negative counts satisfy: answers that
// contradict each other, or a model that reads them wrongly.
var ErrInfeasible = errors.New("attacktest: no non-negative counts satisfy the answers")

// tableau is {x ≥ 0 : A x = b} in canonical form for a feasible basis: the basic columns
// are unit vectors and rhs their values, all non-negative.
type tableau struct {
	m, n  int
	a     []float64 // m rows of n columns
	rhs   []float64
	basis []int
}

func (t *tableau) row(i int) []float64 { return t.a[i*t.n : (i+1)*t.n] }

// pivot makes column j basic in row r.
func (t *tableau) pivot(r, j int) {
	pr := t.row(r)
	f := pr[j]
	for k := range pr {
		pr[k] /= f
	}
	pr[j] = 1
	t.rhs[r] /= f
	for i := range t.m {
		if i == r {
			continue
		}
		ri := t.row(i)
		g := ri[j]
		if g == 0 {
			continue
		}
		for k, v := range pr {
			if v != 0 {
				ri[k] -= g * v
				if math.Abs(ri[k]) < 1e-12 {
					ri[k] = 0
				}
			}
		}
		ri[j] = 0
		t.rhs[i] -= g * t.rhs[r]
		if t.rhs[i] < 0 && t.rhs[i] > -1e-9 {
			t.rhs[i] = 0
		}
	}
	t.basis[r] = j
}

// minimize runs the simplex from t's basis on the objective c (one cost per column) and
// returns its optimum, or early when stop(z) holds for the value z reached (the values only
// decrease). unbounded reports an objective without a lower bound; ok false a program left
// unsolved after maxPivots. t is changed, unless scratch is given: then t is only read, and
// copied into scratch at the first pivot, which goes on there.
func (t *tableau) minimize(c []float64, stop func(z float64) bool, scratch *tableau) (z float64, unbounded, ok bool) {
	d := append([]float64(nil), c...)
	for i, b := range t.basis {
		if cb := c[b]; cb != 0 {
			for k, v := range t.row(i) {
				d[k] -= cb * v
			}
			z += cb * t.rhs[i]
		}
	}
	degenerate := 0
	for range maxPivots {
		if stop != nil && stop(z) {
			return z, false, true
		}
		// Dantzig's rule, Bland's after a run of degenerate pivots (no cycling).
		j := -1
		for k, v := range d {
			if v < -tol && (j < 0 || (degenerate < 50 && v < d[j])) {
				j = k
				if degenerate >= 50 {
					break
				}
			}
		}
		if j < 0 {
			return z, false, true
		}
		r := -1
		best := math.Inf(1)
		for i := range t.m {
			if a := t.a[i*t.n+j]; a > tol {
				q := t.rhs[i] / a
				if q < best-1e-12 || (q <= best+1e-12 && r >= 0 && t.basis[i] < t.basis[r]) {
					best, r = q, i
				}
			}
		}
		if r < 0 {
			return math.Inf(-1), true, true
		}
		if best < 1e-12 {
			degenerate++
		} else {
			degenerate = 0
		}
		if scratch != nil {
			scratch.copyFrom(t)
			t, scratch = scratch, nil
		}
		t.pivot(r, j)
		dj := d[j]
		for k, v := range t.row(r) {
			if v != 0 {
				d[k] -= dj * v
			}
		}
		d[j] = 0
		z += dj * t.rhs[r]
	}
	return z, false, false
}

// copyFrom makes t a copy of o, reusing t's memory.
func (t *tableau) copyFrom(o *tableau) {
	t.m, t.n = o.m, o.n
	t.a = append(t.a[:0], o.a...)
	t.rhs = append(t.rhs[:0], o.rhs...)
	t.basis = append(t.basis[:0], o.basis...)
}

// feasible finds a feasible basis of {x ≥ 0 : A x = b} (phase one of the simplex, with an
// artificial variable per row); rows found redundant are dropped. A is given by rows.
func feasible(rows [][]float64, b []float64, n int) (*tableau, error) {
	m := len(rows)
	w := n + m
	t := &tableau{m: m, n: w, a: make([]float64, m*w), rhs: make([]float64, m), basis: make([]int, m)}
	for i, r := range rows {
		sign := 1.0
		if b[i] < 0 {
			sign = -1
		}
		for k, v := range r {
			t.a[i*w+k] = sign * v
		}
		t.a[i*w+n+i] = 1
		t.rhs[i] = sign * b[i]
		t.basis[i] = n + i
	}
	c := make([]float64, w)
	for i := n; i < w; i++ {
		c[i] = 1
	}
	z, _, ok := t.minimize(c, nil, nil)
	if !ok {
		return nil, errors.New("attacktest: phase one did not converge")
	}
	if z > 1e-6 {
		return nil, ErrInfeasible
	}
	// Artificials left in the basis are at zero: pivot each out on an original column, or
	// drop its row, which the others imply.
	keep := make([]bool, m)
	for i := range m {
		keep[i] = true
		if t.basis[i] < n {
			continue
		}
		j, best := -1, 1e-7
		for k, v := range t.row(i)[:n] {
			if math.Abs(v) > best {
				j, best = k, math.Abs(v)
			}
		}
		if j < 0 {
			keep[i] = false
			continue
		}
		t.pivot(i, j)
	}
	out := &tableau{n: n}
	for i := range m {
		if !keep[i] {
			continue
		}
		out.a = append(out.a, t.row(i)[:n]...)
		out.rhs = append(out.rhs, t.rhs[i])
		out.basis = append(out.basis, t.basis[i])
		out.m++
	}
	return out, nil
}
