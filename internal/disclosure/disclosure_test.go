package disclosure

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func cells2(rows map[[2]string]int64) []Cell {
	var out []Cell
	for k, c := range rows {
		out = append(out, Cell{Keys: []string{k[0], k[1]}, Count: c})
	}
	slices.SortFunc(out, func(a, b Cell) int {
		return cmpKeys(a.Keys, b.Keys)
	})
	return out
}

func cmpKeys(a, b []string) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// suppressedKeys lists the suppressed entries' keys, sorted.
func suppressedKeys(rel []Released) [][]string {
	var out [][]string
	for _, r := range rel {
		if r.Suppressed {
			out = append(out, r.Keys)
		}
	}
	slices.SortFunc(out, cmpKeys)
	return out
}

// countsOf sums cells into the truth a check compares with (additive tables only).
func countsOf(t Table) map[string]int64 {
	out := map[string]int64{}
	for _, c := range t.Cells {
		for mask := 0; mask < 1<<t.Dimensions; mask++ {
			k := slices.Clone(c.Keys)
			for j := range k {
				if mask&(1<<j) != 0 {
					k[j] = ""
				}
			}
			out[keyString(k)] += c.Count
		}
	}
	return out
}

func TestClassicCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		t    Table
		k    int64
		want [][]string // suppressed entries
	}{
		{
			// A single small cell in a row: the cheapest box of four is A-X with row C and
			// column Y (40 + 35 + 45 hidden), not the line rule's first picks.
			name: "single small cell in a row",
			t: Table{Dimensions: 2, Cells: cells2(map[[2]string]int64{
				{"A", "X"}: 3, {"A", "Y"}: 40, {"A", "Z"}: 50,
				{"B", "X"}: 30, {"B", "Y"}: 60, {"B", "Z"}: 70,
				{"C", "X"}: 35, {"C", "Y"}: 45, {"C", "Z"}: 80,
			})},
			k:    11,
			want: [][]string{{"A", "X"}, {"A", "Y"}, {"C", "X"}, {"C", "Y"}},
		},
		{
			// Row A has one cell, so its total is as small; the column of row totals then
			// needs a complement, and the only one is another total, B's.
			name: "small cell whose only complement is a total",
			t: Table{Dimensions: 2, Cells: cells2(map[[2]string]int64{
				{"A", "X"}: 3,
				{"B", "X"}: 20, {"B", "Y"}: 30,
			})},
			k:    11,
			want: [][]string{{"A", ""}, {"A", "X"}, {"B", ""}, {"B", "X"}},
		},
		{
			// Zero is released (an empty cell names nobody) and never chosen to hide a
			// small one: a hidden zero would bound the small cell by its true value.
			name: "zero cells",
			t: Table{Dimensions: 1, Cells: []Cell{
				{Keys: []string{"a"}, Count: 0}, {Keys: []string{"b"}, Count: 4},
				{Keys: []string{"c"}, Count: 20}, {Keys: []string{"d"}, Count: 30},
			}},
			k:    11,
			want: [][]string{{"b"}, {"c"}},
		},
		{
			name: "only zeros",
			t:    Table{Dimensions: 2, Cells: []Cell{{Keys: []string{"a", "x"}}, {Keys: []string{"b", "x"}}}},
			k:    11,
		},
		{
			name: "everything small",
			t:    Table{Dimensions: 1, Cells: []Cell{{Keys: []string{"a"}, Count: 2}, {Keys: []string{"b"}, Count: 3}}},
			k:    11,
			want: [][]string{{""}, {"a"}, {"b"}},
		},
		{
			name: "nothing small",
			t: Table{Dimensions: 2, Cells: cells2(map[[2]string]int64{
				{"A", "X"}: 11, {"A", "Y"}: 12, {"B", "X"}: 13, {"B", "Y"}: 14,
			})},
			k: 11,
		},
		{
			name: "k = 2 hides only ones",
			t:    Table{Dimensions: 1, Cells: []Cell{{Keys: []string{"a"}, Count: 1}, {Keys: []string{"b"}, Count: 2}, {Keys: []string{"c"}, Count: 9}}},
			k:    2,
			want: [][]string{{"a"}, {"b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rel, err := Suppress(tt.t, tt.k)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, suppressedKeys(rel)); diff != "" {
				t.Errorf("suppressed (-want +got):\n%s\n%s", diff, describe(rel))
			}
			checkRelease(t, tt.name, tt.t.Dimensions, tt.k, nil, countsOf(tt.t), rel)
			if got := linearAttack(tt.t.Dimensions, nil, rel); len(got) > 0 {
				t.Errorf("linear algebra over the lines determines %q", got)
			}
		})
	}
}

// TestOrder: the given cells first, in the order given, then the totals in key order.
func TestOrder(t *testing.T) {
	t.Parallel()
	tab := Table{Dimensions: 2, Cells: []Cell{
		{Keys: []string{"b", "y"}, Count: 20}, {Keys: []string{"a", "y"}, Count: 30},
		{Keys: []string{"a", "x"}, Count: 40},
	}}
	rel, err := Suppress(tab, DefaultK)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, r := range rel {
		got = append(got, r.Keys)
	}
	want := [][]string{
		{"b", "y"}, {"a", "y"}, {"a", "x"},
		{"", ""}, {"", "x"}, {"", "y"}, {"a", ""}, {"b", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	again, _ := Suppress(tab, DefaultK)
	if diff := cmp.Diff(rel, again); diff != "" {
		t.Errorf("not deterministic (-first +second):\n%s", diff)
	}
}

// TestLineRuleAloneIsNotEnough shows why the boxes are there: on random tables the line
// rule alone leaves values that combining several lines recovers; with the boxes none is.
func TestLineRuleAloneIsNotEnough(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	lineOnly, boxes := 0, 0
	for run := 0; run < 120; run++ {
		d := 2 + r.IntN(2)
		tab, counts := randomTable(r, d, 20+r.IntN(150), nil)
		for _, withBoxes := range []bool{false, true} {
			rel, err := suppress(tab, 5, withBoxes)
			if err != nil {
				t.Fatal(err)
			}
			if small := smallDetermined(linearAttack(d, nil, rel), counts, 5); len(small) > 0 {
				if withBoxes {
					boxes++
					t.Errorf("run %d: with boxes, %d small values are determined:\n%s", run, len(small), describe(rel))
				} else {
					lineOnly++
				}
			}
			if !withBoxes {
				// What the line rule does promise: no line gives a value by subtraction.
				checkLines(t, "line rule alone", d, rel)
			}
		}
	}
	if lineOnly == 0 {
		t.Error("the line rule alone protected every table: this test no longer shows what the boxes add")
	}
	t.Logf("tables with a recoverable small value: line rule alone %d of 120, with boxes %d", lineOnly, boxes)
}

// smallDetermined keeps the determined entries whose true count is small (the ones the
// protection is for).
func smallDetermined(found []string, counts map[string]int64, k int64) []string {
	var out []string
	for _, f := range found {
		if c := counts[f]; c >= 1 && c < k {
			out = append(out, f)
		}
	}
	return out
}

func TestMultiValued(t *testing.T) {
	t.Parallel()
	// Sex (additive) by vulnerability (multi-valued): 14 women, 3 of them with two
	// vulnerabilities, 2 with none; 30 men, 1 with two, 9 with none.
	tab := Table{Dimensions: 2, MultiValued: []bool{false, true}, Cells: []Cell{
		{Keys: []string{"F", "medical"}, Count: 8},
		{Keys: []string{"F", "vot"}, Count: 7},
		{Keys: []string{"M", "medical"}, Count: 15},
		{Keys: []string{"M", "vot"}, Count: 4},
		{Keys: []string{"M", "umc"}, Count: 3},
		// The distinct persons, which the categories cannot give.
		{Keys: []string{"F", ""}, Count: 14},
		{Keys: []string{"M", ""}, Count: 30},
		{Keys: []string{"", ""}, Count: 44},
	}}
	rel, err := Suppress(tab, DefaultK)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Released{}
	for _, r := range rel {
		got[keyString(r.Keys)] = r
	}
	// Totals over the additive dimension are sums; over the multi-valued one, as given.
	// (Some may be hidden as complements; what is released is true.)
	released := 0
	for keys, want := range map[[2]string]int64{{"", "medical"}: 23, {"", "vot"}: 11, {"F", ""}: 14, {"M", ""}: 30, {"", ""}: 44} {
		r, ok := got[keyString(keys[:])]
		if !ok || !r.Total || (!r.Suppressed && r.Count != want) {
			t.Errorf("%q = %+v, want the total %d", keys, r, want)
		}
		if !r.Suppressed {
			released++
		}
	}
	if released == 0 {
		t.Errorf("every total hidden:\n%s", describe(rel))
	}
	for _, small := range [][2]string{{"F", "medical"}, {"F", "vot"}, {"M", "vot"}, {"M", "umc"}, {"", "umc"}} {
		if !got[keyString(small[:])].Suppressed {
			t.Errorf("%q released", small)
		}
	}
	if s := subtractionAttack(2, rel); len(s) > 0 {
		t.Errorf("subtraction recovered %v", s)
	}

	// Without its totals, a multi-valued table is refused: summing categories would count
	// persons twice.
	noTotals := tab
	noTotals.Cells = tab.Cells[:5]
	if _, err := Suppress(noTotals, DefaultK); !errors.Is(err, ErrMissingTotal) {
		t.Errorf("without totals: err = %v, want ErrMissingTotal", err)
	}
	// A category counting more persons than its total is inconsistent.
	bad := Table{Dimensions: 1, MultiValued: []bool{true}, Cells: []Cell{
		{Keys: []string{"a"}, Count: 12}, {Keys: []string{""}, Count: 11},
	}}
	if _, err := Suppress(bad, DefaultK); !errors.Is(err, ErrInconsistent) {
		t.Errorf("category over total: err = %v, want ErrInconsistent", err)
	}
	// Persons without any category: the total may exceed every category, and a total with
	// no category under it at all is kept (and hidden when small).
	none := Table{Dimensions: 2, MultiValued: []bool{false, true}, Cells: []Cell{
		{Keys: []string{"F", "vot"}, Count: 20},
		{Keys: []string{"F", ""}, Count: 25},
		{Keys: []string{"M", ""}, Count: 4},
		{Keys: []string{"", ""}, Count: 29},
	}}
	rel, err = Suppress(none, DefaultK)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rel {
		if r.Keys[0] == "M" && !r.Suppressed {
			t.Errorf("%q released", r.Keys)
		}
	}
	if s := subtractionAttack(2, rel); len(s) > 0 {
		t.Errorf("subtraction recovered %v\n%s", s, describe(rel))
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	one := []Cell{{Keys: []string{"a"}, Count: 1}}
	tests := []struct {
		name string
		t    Table
		k    int64
		want error
	}{
		{"k 1", Table{Dimensions: 1, Cells: one}, 1, ErrThreshold},
		{"k 0", Table{Dimensions: 1, Cells: one}, 0, ErrThreshold},
		{"k negative", Table{Dimensions: 1, Cells: one}, -5, ErrThreshold},
		{"no dimension", Table{Dimensions: 0}, 11, ErrDimensions},
		{"five dimensions", Table{Dimensions: 5}, 11, ErrDimensions},
		{"MultiValued length", Table{Dimensions: 1, Cells: one, MultiValued: []bool{true, false}}, 11, ErrDimensions},
		{"keys length", Table{Dimensions: 2, Cells: one}, 11, ErrKeys},
		{"negative", Table{Dimensions: 1, Cells: []Cell{{Keys: []string{"a"}, Count: -1}}}, 11, ErrCount},
		{"duplicate", Table{Dimensions: 1, Cells: []Cell{{Keys: []string{"a"}, Count: 1}, {Keys: []string{"a"}, Count: 2}}}, 11, ErrDuplicate},
		{"total not the sum", Table{Dimensions: 1, Cells: []Cell{{Keys: []string{"a"}, Count: 20}, {Keys: []string{""}, Count: 21}}}, 11, ErrInconsistent},
	}
	for _, tt := range tests {
		if _, err := Suppress(tt.t, tt.k); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Errors never carry a key: keys can be rare categories, and errors are logged.
	_, err := Suppress(Table{Dimensions: 1, Cells: []Cell{{Keys: []string{"SECRET"}, Count: 20}, {Keys: []string{""}, Count: 21}}}, 11)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %v", err)
	}
}
