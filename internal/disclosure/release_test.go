package disclosure

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// regionOf is a grouping of the test's countries: C0..C3 in R0, C4..C6 in R1, the rest in R2.
func regionOf(v string) (string, bool) {
	var n int
	if _, err := fmt.Sscanf(v, "C%d", &n); err != nil {
		return "", false
	}
	switch {
	case n < 4:
		return "R0", true
	case n < 7:
		return "R1", true
	default:
		return "R2", true
	}
}

// randomCover draws a cover of persons by a grouped country dimension and one or two flat
// ones, with many small cells, as a year of a small programme looks.
func randomCover(r *rand.Rand) Cover {
	d := 2 + r.IntN(2)
	sizes := []int{4 + r.IntN(6), 2 + r.IntN(3), 2 + r.IntN(3)}
	c := Cover{Dimensions: make([]Dimension, d)}
	c.Dimensions[0].GroupOf = regionOf
	var walk func(j int, keys []string)
	walk = func(j int, keys []string) {
		if j == d {
			if r.IntN(3) == 0 {
				return // absent: zero
			}
			n := int64(r.IntN(6))
			if r.IntN(4) == 0 {
				n = int64(10 + r.IntN(60))
			}
			c.Cells = append(c.Cells, Cell{Keys: slices.Clone(keys), Count: n})
			return
		}
		for v := range sizes[j] {
			name := fmt.Sprintf("V%d", v)
			if j == 0 {
				name = fmt.Sprintf("C%d", v)
			}
			walk(j+1, append(keys, name))
		}
	}
	walk(0, nil)
	return c
}

// entriesOf counts every entry (each combination of a value, its group or all, per
// dimension) of fine cells, keyed by the entry's keys.
func entriesOf(c Cover, cells map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for joined, n := range cells {
		values := strings.Split(joined, "|")
		var walk func(j int, keys []string)
		walk = func(j int, keys []string) {
			if j == len(values) {
				out[strings.Join(keys, "|")] += n
				return
			}
			walk(j+1, append(keys, values[j]))
			if g := c.Dimensions[j].GroupOf; g != nil {
				name, _ := g(values[j])
				walk(j+1, append(keys, "g:"+name))
			}
			walk(j+1, append(keys, "*"))
		}
		walk(0, nil)
	}
	return out
}

func keysString(keys []Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		switch {
		case k.Value == "":
			parts[i] = "*"
		case k.Group:
			parts[i] = "g:" + k.Value
		default:
			parts[i] = k.Value
		}
	}
	return strings.Join(parts, "|")
}

// TestCertificatesHold replays every move of every release of random covers: the moved
// database has no negative cell, the small entry is empty in it, and every released entry
// counts what it counted. That is the whole safety argument, checked on the data.
func TestCertificatesHold(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 13))
	for round := range 300 {
		c := randomCover(r)
		rel, err := Protect(c, DefaultK, nil)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		cells := map[string]int64{}
		for _, cell := range c.Cells {
			cells[strings.Join(cell.Keys, "|")] += cell.Count
		}
		truth := entriesOf(c, cells)
		released := map[string]int64{}
		levels := make([][]Level, 0)
		var allLevels func(j int, ls []Level)
		allLevels = func(j int, ls []Level) {
			if j == len(c.Dimensions) {
				levels = append(levels, slices.Clone(ls))
				return
			}
			for _, l := range []Level{LevelAll, LevelGroup, LevelValue} {
				if l == LevelGroup && c.Dimensions[j].GroupOf == nil {
					continue
				}
				allLevels(j+1, append(ls, l))
			}
		}
		allLevels(0, nil)
		for _, ls := range levels {
			rel.Entries(ls, func(keys []Key, n int64, withheld bool) {
				if !withheld {
					released[keysString(keys)] = n
				}
			})
		}
		smalls := 0
		for key, n := range truth {
			if n > 0 && n < DefaultK {
				smalls++
				if _, ok := released[key]; ok {
					t.Fatalf("round %d: small entry %s (%d) released", round, key, n)
				}
			}
			if got, ok := released[key]; ok && got != n {
				t.Fatalf("round %d: entry %s released as %d, is %d", round, key, got, n)
			}
		}
		if rel.WithheldAll() {
			if len(released) != 0 {
				t.Fatalf("round %d: population withheld, yet %d entries released", round, len(released))
			}
			continue
		}
		if got := len(rel.Certificates()); got != smalls {
			t.Fatalf("round %d: %d certificates for %d small entries", round, got, smalls)
		}
		for _, m := range rel.Certificates() {
			moved := maps2(cells)
			for _, s := range m.Steps {
				moved[strings.Join(s.From, "|")] -= s.Persons
				moved[strings.Join(s.To, "|")] += s.Persons
			}
			for key, n := range moved {
				if n < 0 {
					t.Fatalf("round %d: the move of %s leaves cell %s at %d", round, keysString(m.Entry), key, n)
				}
			}
			after := entriesOf(c, moved)
			if n := after[keysString(m.Entry)]; n != 0 {
				t.Fatalf("round %d: the move of %s leaves it at %d", round, keysString(m.Entry), n)
			}
			for key, n := range released {
				if after[key] != n {
					t.Fatalf("round %d: the move of %s changes released entry %s from %d to %d",
						round, keysString(m.Entry), key, n, after[key])
				}
			}
		}
	}
}

func maps2(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestProtectRefuses(t *testing.T) {
	t.Parallel()
	flat := Dimension{}
	tests := []struct {
		name string
		c    Cover
		want error
	}{
		{name: "no dimension", c: Cover{}, want: ErrCover},
		{name: "four dimensions", c: Cover{Dimensions: []Dimension{flat, flat, flat, flat}}, want: ErrCover},
		{name: "multi-valued with another", c: Cover{Dimensions: []Dimension{{MultiValued: true}, flat}}, want: ErrCover},
		{name: "keys", c: Cover{Dimensions: []Dimension{flat}, Cells: []Cell{{Keys: []string{"a", "b"}, Count: 1}}}, want: ErrKeys},
		{name: "total key", c: Cover{Dimensions: []Dimension{flat}, Cells: []Cell{{Keys: []string{""}, Count: 1}}}, want: ErrKeys},
		{name: "negative", c: Cover{Dimensions: []Dimension{flat}, Cells: []Cell{{Keys: []string{"a"}, Count: -1}}}, want: ErrCount},
		{name: "no group", c: Cover{Dimensions: []Dimension{{GroupOf: regionOf}}, Cells: []Cell{{Keys: []string{"x"}, Count: 1}}}, want: ErrGroup},
		{name: "persons", c: Cover{Dimensions: []Dimension{flat}, Cells: []Cell{{Keys: []string{"a"}, Count: 20}}, Persons: 21}, want: ErrCoverTotal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Protect(tt.c, DefaultK, nil); !errors.Is(err, tt.want) {
				t.Errorf("Protect = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestMultiValuedCover protects a single multi-valued dimension: its total (distinct
// persons) stays released, a small category goes with a partner.
func TestMultiValuedCover(t *testing.T) {
	t.Parallel()
	c := Cover{Dimensions: []Dimension{{MultiValued: true}}, Persons: 90, Cells: []Cell{
		{Keys: []string{"FORCED_LABOUR"}, Count: 60},
		{Keys: []string{"SEXUAL"}, Count: 40},
		{Keys: []string{"BEGGING"}, Count: 3},
	}}
	rel, err := Protect(c, DefaultK, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, w := rel.Lookup([]Key{{}}); w || n != 90 {
		t.Errorf("total = %d (withheld %v), want 90 released", n, w)
	}
	if _, w := rel.Lookup([]Key{{Value: "BEGGING"}}); !w {
		t.Error("BEGGING (3) released")
	}
	hidden := 0
	for _, v := range []string{"FORCED_LABOUR", "SEXUAL"} {
		if _, w := rel.Lookup([]Key{{Value: v}}); w {
			hidden++
		}
	}
	if hidden != 1 {
		t.Errorf("%d partners withheld, want 1", hidden)
	}
}

// TestSmallPopulation withholds everything of a population under k: no move can take a
// person out of it.
func TestSmallPopulation(t *testing.T) {
	t.Parallel()
	c := Cover{Dimensions: []Dimension{{}}, Cells: []Cell{{Keys: []string{"F"}, Count: 4}, {Keys: []string{"M"}, Count: 3}}}
	rel, err := Protect(c, DefaultK, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rel.WithheldAll() {
		t.Fatal("a population of 7 is released")
	}
	if _, w := rel.Lookup([]Key{{}}); !w {
		t.Error("its total is released")
	}
}

// TestStickyPattern: what a release withheld, the next release of the same population
// withholds too, even where counts have grown.
func TestStickyPattern(t *testing.T) {
	t.Parallel()
	c := Cover{Dimensions: []Dimension{{}}, Cells: []Cell{
		{Keys: []string{"A"}, Count: 50}, {Keys: []string{"B"}, Count: 40}, {Keys: []string{"C"}, Count: 2},
	}}
	first, err := Protect(c, DefaultK, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Cells[2].Count = 30
	second, err := Protect(c, DefaultK, first.Withheld())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range first.Withheld() {
		if _, hidden := second.Lookup(w); !hidden {
			t.Errorf("%s withheld first, released next", keysString(w))
		}
	}
}

// TestProtectHashIndex: a cover whose key space is too large for the dense index (none of
// the other tests' is) finds its entries in the hash table, and gets the same release.
func TestProtectHashIndex(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 5))
	for round := range 60 {
		c := randomCover(r)
		dense, err := protectCover(c, DefaultK, nil, maxDense)
		if err != nil {
			t.Fatal(err)
		}
		hashed, err := protectCover(c, DefaultK, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := releaseText(c, hashed), releaseText(c, dense); got != want {
			t.Fatalf("round %d: the hash table's release differs from the dense index's:\n%s\nwant\n%s", round, got, want)
		}
	}
}

// releaseText renders everything a release tells: its entries at every level, withheld or
// not, and its certificates.
func releaseText(c Cover, r *Release) string {
	var b strings.Builder
	var walk func(j int, ls []Level)
	walk = func(j int, ls []Level) {
		if j == len(c.Dimensions) {
			r.Entries(ls, func(keys []Key, n int64, withheld bool) { fmt.Fprintln(&b, keysString(keys), n, withheld) })
			return
		}
		for _, l := range []Level{LevelAll, LevelGroup, LevelValue} {
			walk(j+1, append(ls, l))
		}
	}
	walk(0, nil)
	for _, m := range r.Certificates() {
		fmt.Fprintln(&b, "move", keysString(m.Entry), m.Steps)
	}
	return b.String()
}
