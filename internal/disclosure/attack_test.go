package disclosure

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// lineOf names the line through keys in direction j: every key but the j-th.
func lineOf(keys []string, j int) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		if i == j {
			parts[i] = "\x00*"
		} else {
			parts[i] = k
		}
	}
	return strings.Join(parts, "\x00|")
}

func keyString(keys []string) string { return strings.Join(keys, "\x00|") }

// subtractionAttack is what a reader of one response can do by subtraction: for every line,
// in every direction, if exactly one of its entries is unknown, that entry is the total
// minus the released cells (or, for the total, their sum). Entries found are taken as known
// and the lines tried again until nothing more comes out. It treats every line as an
// equation, multi-valued ones included (an attacker may guess that no person was counted
// in two categories), so it is stricter than the arithmetic. It returns what it recovered.
func subtractionAttack(d int, rel []Released) map[string]int64 {
	known := map[string]int64{}
	unknown := map[string]bool{}
	for _, r := range rel {
		if r.Suppressed {
			unknown[keyString(r.Keys)] = true
		} else {
			known[keyString(r.Keys)] = r.Count
		}
	}
	type line struct {
		total string
		cells []string
	}
	lines := map[string]*line{}
	for _, r := range rel {
		for j := 0; j < d; j++ {
			id := lineOf(r.Keys, j)
			l := lines[id]
			if l == nil {
				l = &line{}
				lines[id] = l
			}
			if r.Keys[j] == "" {
				l.total = keyString(r.Keys)
			} else {
				l.cells = append(l.cells, keyString(r.Keys))
			}
		}
	}
	recovered := map[string]int64{}
	for progress := true; progress; {
		progress = false
		for _, l := range lines {
			if len(l.cells) == 0 {
				continue
			}
			var missing []string
			var sum int64
			for _, c := range l.cells {
				if v, ok := known[c]; ok {
					sum += v
				} else {
					missing = append(missing, c)
				}
			}
			total, totalKnown := known[l.total]
			switch {
			case len(missing) == 0 && !totalKnown:
				known[l.total], recovered[l.total] = sum, sum
				progress = true
			case len(missing) == 1 && totalKnown:
				known[missing[0]], recovered[missing[0]] = total-sum, total-sum
				progress = true
			}
		}
	}
	return recovered
}

// linearAttack goes further than subtraction: it writes every additive line as an equation
// over the suppressed entries and reports those whose value the system determines (Gaussian
// elimination: an entry is determined when its unit vector lies in the rows' span). Small
// tables only.
func linearAttack(d int, multi []bool, rel []Released) []string {
	col := map[string]int{}
	var names []string
	val := map[string]int64{}
	for _, r := range rel {
		k := keyString(r.Keys)
		if r.Suppressed {
			col[k] = len(names)
			names = append(names, k)
		} else {
			val[k] = r.Count
		}
	}
	n := len(names)
	if n == 0 {
		return nil
	}
	type line struct {
		total string
		cells []string
	}
	lines := map[string]*line{}
	for _, r := range rel {
		for j := 0; j < d; j++ {
			if multi != nil && multi[j] {
				continue
			}
			id := lineOf(r.Keys, j)
			l := lines[id]
			if l == nil {
				l = &line{}
				lines[id] = l
			}
			if r.Keys[j] == "" {
				l.total = keyString(r.Keys)
			} else {
				l.cells = append(l.cells, keyString(r.Keys))
			}
		}
	}
	var rows [][]float64
	for _, l := range lines {
		row := make([]float64, n)
		any := false
		for _, c := range l.cells {
			if i, ok := col[c]; ok {
				row[i] = 1
				any = true
			}
		}
		if i, ok := col[l.total]; ok {
			row[i] = -1
			any = true
		}
		if any {
			rows = append(rows, row)
		}
	}
	// Reduce the system once (row echelon, reduced). A free variable is never determined;
	// a pivot variable is determined exactly when its row has nothing in a free column.
	pivots := reduce(rows, n)
	var found []string
	for c, r := range pivots {
		if r < 0 {
			continue
		}
		determined := true
		for f := 0; f < n && determined; f++ {
			if pivots[f] < 0 && math.Abs(rows[r][f]) > 1e-9 {
				determined = false
			}
		}
		if determined {
			found = append(found, names[c])
		}
	}
	return found
}

// reduce brings m to reduced row echelon form in place and returns, per column, the row
// of its pivot or -1.
func reduce(m [][]float64, n int) []int {
	pivots := make([]int, n)
	r := 0
	for c := 0; c < n; c++ {
		pivots[c] = -1
		if r == len(m) {
			continue
		}
		p := -1
		for i := r; i < len(m); i++ {
			if math.Abs(m[i][c]) > 1e-9 && (p < 0 || math.Abs(m[i][c]) > math.Abs(m[p][c])) {
				p = i
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		f := m[r][c]
		for j := c; j < n; j++ {
			m[r][j] /= f
		}
		for i := range m {
			if i != r && math.Abs(m[i][c]) > 1e-9 {
				g := m[i][c]
				for j := c; j < n; j++ {
					m[i][j] -= g * m[r][j]
				}
			}
		}
		pivots[c] = r
		r++
	}
	return pivots
}

func describe(rel []Released) string {
	var b strings.Builder
	for _, r := range rel {
		fmt.Fprintf(&b, "%q %d sup=%v total=%v\n", r.Keys, r.Count, r.Suppressed, r.Total)
	}
	return b.String()
}

var _ = testing.Short
