package attacktest

import (
	"fmt"
	"slices"
	"strings"
)

// Explain shows how the answers pin a disclosure when it is the simplest kind: one released
// number minus one or two others, whose atoms lie inside the first and apart from each
// other (atoms the answers show empty aside), as when a line's total and its released cells
// leave the sum of its withheld cells. It returns the equation, e.g.
//
//	7 = 31 [… "AVRR|GMB"] - 24 [… "AVRR|GMB"]
//
// or "" when the count is no such difference (a longer combination, or bounds that need the
// counts to be non-negative).
func (a *Attacker) Explain(d Disclosure) string {
	if d.form == nil || d.Lo != d.Hi {
		return ""
	}
	zero := newBitset(a.dom.Atoms())
	var eqs []*equation
	for _, e := range a.eqs {
		if e.value == 0 {
			zero.or(e.form)
		}
	}
	for _, e := range a.eqs {
		if e.value != 0 {
			eqs = append(eqs, e)
		}
	}
	// The same answers, the same explanation.
	slices.SortFunc(eqs, func(x, y *equation) int { return strings.Compare(x.what, y.what) })
	live := func(f bitset) bitset {
		g := f.clone()
		g.andNot(zero)
		return g
	}
	target := live(d.form).key()
	term := func(e *equation) string { return fmt.Sprintf("%d [%s]", e.value, e.what) }
	// inside reports whether the live atoms of f lie within e.
	inside := func(f bitset, e *equation) bool { return live(f).subsetOf(e.form) }
	for _, whole := range eqs {
		if whole.value <= d.True {
			continue
		}
		for i, p := range eqs {
			if p == whole || !inside(p.form, whole) {
				continue
			}
			rest := whole.form.clone()
			rest.andNot(p.form)
			if whole.value-p.value == d.True && live(rest).key() == target {
				return fmt.Sprintf("%d = %s - %s", d.True, term(whole), term(p))
			}
			for _, q := range eqs[i+1:] {
				if q == whole || !inside(q.form, whole) || whole.value-p.value-q.value != d.True {
					continue
				}
				overlap := live(p.form)
				overlap.and(q.form)
				if !overlap.empty() {
					continue
				}
				r := rest.clone()
				r.andNot(q.form)
				if live(r).key() == target {
					return fmt.Sprintf("%d = %s - %s - %s", d.True, term(whole), term(p), term(q))
				}
			}
		}
	}
	return ""
}
