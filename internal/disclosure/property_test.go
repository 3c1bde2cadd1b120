package disclosure

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// person is one synthetic person: per dimension the values they have (one for an additive
// dimension, zero or more for a multi-valued one).
type person [][]string

// truth counts persons for every entry of the extended table directly from the persons, the
// way the analytics engine would (distinct persons per key), independently of Suppress.
func truth(d int, people []person) map[string]int64 {
	out := map[string]int64{}
	for _, p := range people {
		seen := map[string]bool{}
		for mask := 0; mask < 1<<d; mask++ {
			var walk func(j int, keys []string)
			walk = func(j int, keys []string) {
				if j == d {
					seen[keyString(keys)] = true
					return
				}
				if mask&(1<<j) != 0 {
					walk(j+1, append(keys, ""))
					return
				}
				for _, v := range p[j] {
					walk(j+1, append(keys, v))
				}
			}
			walk(0, nil)
		}
		for k := range seen {
			out[k]++
		}
	}
	return out
}

// randomTable makes a table of persons with skewed categories (a few large, many rare),
// the shape of HQ's tables (nationalities by host country...).
func randomTable(r *rand.Rand, d int, people int, multi []bool) (Table, map[string]int64) {
	sizes := make([]int, d)
	for j := range sizes {
		sizes[j] = 2 + r.IntN(6)
	}
	pick := func(j int) string {
		// Zipf-like: value i with weight 1/(i+1).
		for {
			i := r.IntN(sizes[j])
			if r.Float64() < 1/float64(i+1) {
				return fmt.Sprintf("v%d", i)
			}
		}
	}
	ps := make([]person, people)
	for i := range ps {
		p := make(person, d)
		for j := 0; j < d; j++ {
			if multi != nil && multi[j] {
				n := r.IntN(3) // 0, 1 or 2 categories
				set := map[string]bool{}
				for len(set) < n {
					set[pick(j)] = true
				}
				for v := range set {
					p[j] = append(p[j], v)
				}
			} else {
				p[j] = []string{pick(j)}
			}
		}
		ps[i] = p
	}
	counts := truth(d, ps)
	var t Table
	t.Dimensions = d
	t.MultiValued = multi
	for k, c := range counts {
		keys := splitKey(k, d)
		isTotal, overMulti := false, false
		for j, v := range keys {
			if v == "" {
				isTotal = true
				if multi != nil && multi[j] {
					overMulti = true
				}
			}
		}
		// Cells, and the totals over a multi-valued dimension (which Suppress cannot sum);
		// about half of the other totals too, to exercise their check.
		if !isTotal || overMulti || r.IntN(2) == 0 {
			t.Cells = append(t.Cells, Cell{Keys: keys, Count: c})
		}
	}
	r.Shuffle(len(t.Cells), func(i, j int) { t.Cells[i], t.Cells[j] = t.Cells[j], t.Cells[i] })
	return t, counts
}

func splitKey(k string, d int) []string {
	out := make([]string, 0, d)
	start := 0
	for i := 0; i+1 < len(k); i++ {
		if k[i] == 0 && k[i+1] == '|' {
			out = append(out, k[start:i])
			start = i + 2
			i++
		}
	}
	return append(out, k[start:])
}

// TestRandomTables is the property test: for random tables of 1 to 4 dimensions, some
// multi-valued, every released count is true, every small count is hidden, every line
// holding a suppressed entry holds two, and subtraction recovers nothing.
func TestRandomTables(t *testing.T) {
	t.Parallel()
	runs := 250
	if testing.Short() {
		runs = 60
	}
	r := rand.New(rand.NewPCG(5, 11))
	for run := 0; run < runs; run++ {
		d := 1 + r.IntN(4)
		var multi []bool
		if r.IntN(3) == 0 {
			multi = make([]bool, d)
			multi[r.IntN(d)] = true
		}
		k := int64(2 + r.IntN(12))
		tab, counts := randomTable(r, d, 5+r.IntN(400), multi)
		rel, err := Suppress(tab, k)
		if err != nil {
			t.Fatalf("run %d: Suppress: %v", run, err)
		}
		checkRelease(t, fmt.Sprintf("run %d (d=%d k=%d multi=%v)", run, d, k, multi), d, k, multi, counts, rel)
	}
}

// checkRelease holds the properties every release keeps.
func checkRelease(t *testing.T, name string, d int, k int64, multi []bool, counts map[string]int64, rel []Released) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range rel {
		ks := keyString(e.Keys)
		if seen[ks] {
			t.Fatalf("%s: %q released twice", name, e.Keys)
		}
		seen[ks] = true
		want, ok := counts[ks]
		if !ok {
			t.Fatalf("%s: %q released, but no person has it", name, e.Keys)
		}
		isTotal := false
		for _, v := range e.Keys {
			isTotal = isTotal || v == ""
		}
		if e.Total != isTotal {
			t.Errorf("%s: %q Total = %v", name, e.Keys, e.Total)
		}
		switch {
		case e.Suppressed && e.Count != 0:
			t.Errorf("%s: %q suppressed but carries %d", name, e.Keys, e.Count)
		case !e.Suppressed && e.Count != want:
			t.Errorf("%s: %q released as %d, true count %d", name, e.Keys, e.Count, want)
		case !e.Suppressed && want >= 1 && want < k:
			t.Errorf("%s: %q released with %d < k=%d", name, e.Keys, want, k)
		}
	}
	for ks := range counts {
		if !seen[ks] {
			t.Errorf("%s: %q not released (neither count nor suppressed)", name, splitKey(ks, d))
		}
	}
	checkLines(t, name, d, rel)
	// Stronger than the rule promises: no combination of lines fixes a small value either
	// (small releases only, the attack being cubic).
	suppressed := 0
	for _, e := range rel {
		if e.Suppressed {
			suppressed++
		}
	}
	if suppressed <= 200 {
		if got := smallDetermined(linearAttack(d, multi, rel), counts, k); len(got) > 0 {
			t.Errorf("%s: combining lines determines %d small values: %q\n%s", name, len(got), got, describe(rel))
		}
	}
	checkBoxes(t, name, d, k, multi, counts, rel)
}

// checkBoxes holds that every small count is a corner of a box of hidden positive entries
// (a second coordinate per dimension, another value or the total, and every combination of
// the two hidden), searched exhaustively here: Suppress searches a box for a small count only
// when no box chosen before has it as a corner, so this is what shows the skipped ones are
// covered. Along a multi-valued dimension a box may keep the small count's coordinate alone.
func checkBoxes(t *testing.T, name string, d int, k int64, multi []bool, counts map[string]int64, rel []Released) {
	t.Helper()
	hidden := map[string]bool{}
	values := make([]map[string]bool, d)
	for j := range values {
		values[j] = map[string]bool{"": true}
	}
	for _, e := range rel {
		if e.Suppressed && counts[keyString(e.Keys)] > 0 {
			hidden[keyString(e.Keys)] = true
		}
		for j, v := range e.Keys {
			values[j][v] = true
		}
	}
	onBox := func(p []string) bool {
		second := make([]string, d)
		extends := make([]bool, d)
		var choose func(j int) bool
		choose = func(j int) bool {
			if j == d {
				corner := make([]string, d)
			corners:
				for sub := 0; sub < 1<<d; sub++ {
					for i := range d {
						corner[i] = p[i]
						if sub&(1<<i) != 0 {
							if !extends[i] {
								continue corners // the same corner as without this bit
							}
							corner[i] = second[i]
						}
					}
					if !hidden[keyString(corner)] {
						return false
					}
				}
				return true
			}
			if multi != nil && multi[j] {
				extends[j] = false
				if choose(j + 1) {
					return true
				}
			}
			extends[j] = true
			for v := range values[j] {
				if v != p[j] {
					second[j] = v
					if choose(j + 1) {
						return true
					}
				}
			}
			return false
		}
		return choose(0)
	}
	for _, e := range rel {
		if c := counts[keyString(e.Keys)]; c >= 1 && c < k && !onBox(e.Keys) {
			t.Errorf("%s: small count %q is on no box of hidden entries", name, e.Keys)
		}
	}
}

// checkLines holds the line rule and runs the subtraction attack.
func checkLines(t *testing.T, name string, d int, rel []Released) {
	t.Helper()
	// Every line with two entries or more holds 0 or >= 2 suppressed entries.
	lines := map[string][2]int{} // entries, suppressed
	for _, e := range rel {
		for j := 0; j < d; j++ {
			id := fmt.Sprint(j) + lineOf(e.Keys, j)
			v := lines[id]
			v[0]++
			if e.Suppressed {
				v[1]++
			}
			lines[id] = v
		}
	}
	for id, v := range lines {
		if v[0] >= 2 && v[1] == 1 {
			t.Errorf("%s: line %q holds a single suppressed entry", name, id)
		}
	}
	if got := subtractionAttack(d, rel); len(got) > 0 {
		t.Errorf("%s: subtraction recovered %d suppressed values: %v\n%s", name, len(got), got, describe(rel))
	}
}
