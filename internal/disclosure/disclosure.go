package disclosure

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// DefaultK is the smallest count released: the CTDC's threshold of 11 persons.
const DefaultK = 11

// MaxDimensions is the largest table Suppress takes: with every marginal, a table of d
// dimensions has up to 2^d entries per cell, and HQ's questions need at most four.
const MaxDimensions = 4

// Cell is one count of a table. Keys hold one value per dimension, in the table's order.
// A key "" stands for "all" and makes the cell a total: totals over a multi-valued
// dimension must be given this way (see Table); others may be, and are then checked.
type Cell struct {
	Keys  []string
	Count int64
}

// Table is what Suppress protects: counts of persons by up to four dimensions. Cells that
// are absent count zero.
//
// MultiValued marks, per dimension, a category a person may have several of (vulnerability,
// type of exploitation). Such a dimension is not additive: a person is counted once under
// each of their categories, so the categories do not add up to the number of persons. The
// totals over it (the distinct persons) therefore cannot be computed from the cells, and
// Table.Cells must give every total that aggregates a multi-valued dimension. A nil
// MultiValued means every dimension is additive.
type Table struct {
	Dimensions  int
	Cells       []Cell
	MultiValued []bool
}

// Released is one entry of the protected table: a cell, or a total (Total true, "" in
// the keys of each dimension it adds up). A suppressed entry carries Count 0: its true
// count never leaves Suppress.
type Released struct {
	Keys       []string
	Count      int64
	Suppressed bool
	Total      bool
}

// Errors Suppress returns, wrapped with the detail (never a key value: keys may be rare
// categories, and errors are logged).
var (
	ErrThreshold    = errors.New("disclosure: k must be at least 2")
	ErrDimensions   = errors.New("disclosure: a table has 1 to 4 dimensions")
	ErrKeys         = errors.New("disclosure: cell keys do not match the table's dimensions")
	ErrCount        = errors.New("disclosure: counts are never negative")
	ErrDuplicate    = errors.New("disclosure: the same keys twice")
	ErrMissingTotal = errors.New("disclosure: a total over a multi-valued dimension is missing")
	ErrInconsistent = errors.New("disclosure: a total does not match its cells")
)

// all is the internal code of "" (the total over a dimension); values are numbered from 1.
const all = 0

type key [MaxDimensions]int32

// maxValues bounds the values of one dimension, so that a key packs into 64 bits (the
// index is the hot path of the box search). HQ's widest dimension, countries, has 249.
const maxValues = 1<<16 - 2

func pack(k key) uint64 {
	return uint64(k[0]) | uint64(k[1])<<16 | uint64(k[2])<<32 | uint64(k[3])<<48
}

// entry is one cell or total of the extended table.
type entry struct {
	key        key
	count      int64
	given      bool // in Table.Cells (else a computed total)
	suppressed bool
	primary    bool
	lines      [MaxDimensions]int32
	// up[j] is the entry of this key with dimension j set to all: the total of the entry's
	// line in direction j (-1 where the key is already all there, the entry being that total).
	up [MaxDimensions]int32
}

// table is the extended table: every cell and every total, and the lines through them.
type table struct {
	d       int
	multi   []bool
	values  [][]string // per dimension, value id -> value (id 0 = "")
	entries []entry
	index   *locator
	// lines[l] lists the entries of line l: those that agree on every dimension but one
	// (the line's direction), including the total over that direction.
	lines     [][]int32
	lineDir   []int8
	lineTotal []int32
	// For the box search: per line, its positive entries by count (sorted when the search
	// first reads the line: see lineByCount), and its hidden entries as they are hidden.
	byCount  [][]int32
	positive []int32  // byCount's backing array: each entry is on d lines
	packed   []uint64 // lineByCount's buffer
	hidden   [][]int32
	// costs[i] is what hiding entry i as a corner costs (see cornerCost); slotCosts the same
	// by the locator's dense slot, when it has one (capped at math.MaxInt32), so that the
	// box search reads a corner's cost without first reading its entry.
	costs     []int64
	slotCosts []int32
	// covered[i]: entry i is a corner of a box already chosen (see protect).
	covered []bool
}

// Suppress releases t's cells and every total (over each proper subset of its dimensions,
// the grand total included) with small counts hidden:
//   - primary suppression: a count from 1 to k-1 is suppressed (zero is released: an empty
//     cell names nobody);
//   - complementary suppression: every line of the table (the entries that differ in one
//     dimension only, with their total over it), in every direction, that holds a
//     suppressed entry holds at least two, so that no suppressed count is the difference
//     of a released total and released cells. Each complement is the smallest positive
//     released count of its line; the rule is applied again until no line needs one.
//
// Entries come back in a stable order: the given cells that are not totals, in the order
// given, then the totals in the order of their keys ("" first). Suppress reads t only.
func Suppress(t Table, k int64) ([]Released, error) {
	if k < 2 {
		return nil, fmt.Errorf("%w (got %d)", ErrThreshold, k)
	}
	return suppress(t, k, true)
}

// suppress is Suppress with the hypercube step optional, so that a test can show what the
// line rule alone leaves open.
func suppress(t Table, k int64, boxes bool) ([]Released, error) {
	x, err := build(t)
	if err != nil {
		return nil, err
	}
	x.suppress(k, boxes)
	return x.release(), nil
}

func build(t Table) (*table, error) {
	d := t.Dimensions
	if d < 1 || d > MaxDimensions {
		return nil, fmt.Errorf("%w (got %d)", ErrDimensions, d)
	}
	multi := make([]bool, d)
	switch len(t.MultiValued) {
	case 0:
	case d:
		copy(multi, t.MultiValued)
	default:
		return nil, fmt.Errorf("%w: %d MultiValued flags for %d dimensions", ErrDimensions, len(t.MultiValued), d)
	}
	x := &table{d: d, multi: multi, values: make([][]string, d)}
	ids := make([]map[string]int32, d)
	for j := range ids {
		ids[j] = map[string]int32{}
		x.values[j] = []string{""}
	}
	keys := make([]key, len(t.Cells))
	// The value and id last seen per dimension: cells sorted by their keys repeat the values
	// of their first dimensions from one to the next, and a comparison is cheaper than a map.
	var last [MaxDimensions]string
	var lastID [MaxDimensions]int32
	for i, c := range t.Cells {
		if len(c.Keys) != d {
			return nil, fmt.Errorf("%w: cell %d has %d keys for %d dimensions", ErrKeys, i, len(c.Keys), d)
		}
		if c.Count < 0 {
			return nil, fmt.Errorf("%w: cell %d", ErrCount, i)
		}
		for j, v := range c.Keys {
			if v == "" {
				continue
			}
			if lastID[j] != all && v == last[j] {
				keys[i][j] = lastID[j]
				continue
			}
			id, ok := ids[j][v]
			if !ok {
				if len(x.values[j]) > maxValues {
					return nil, fmt.Errorf("%w: dimension %d has more than %d values", ErrDimensions, j, maxValues)
				}
				id = int32(len(x.values[j]))
				ids[j][v] = id
				x.values[j] = append(x.values[j], v)
			}
			keys[i][j] = id
			last[j], lastID[j] = v, id
		}
	}
	var radix [MaxDimensions]int64
	for j := 0; j < d; j++ {
		radix[j] = int64(len(x.values[j]))
	}
	x.index = newLocator(radix, len(t.Cells)*2)
	x.entries = make([]entry, 0, len(t.Cells)+len(t.Cells)/2)
	for i, c := range t.Cells {
		if _, dup := x.index.get(keys[i]); dup {
			return nil, fmt.Errorf("%w: cell %d", ErrDuplicate, i)
		}
		x.index.set(keys[i], int32(len(x.entries)))
		x.entries = append(x.entries, entry{key: keys[i], count: c.Count, given: true})
	}

	// Close under projection: every total any entry adds into must exist. Totals over
	// additive dimensions only are sums of the cells; totals over a multi-valued dimension
	// must have been given. Every entry, those added included, is closed under setting one
	// dimension to all, which closes the table under every projection; each entry keeps the
	// totals it found (up), which the lines and the computed totals then follow.
	for i := 0; i < len(x.entries); i++ {
		for j := 0; j < d; j++ {
			k := x.entries[i].key
			if k[j] == all {
				x.entries[i].up[j] = -1
				continue
			}
			k[j] = all
			t, ok := x.index.get(k)
			if !ok {
				if x.aggregatesMulti(k) {
					what := "total"
					if x.entries[i].given {
						what = "given " + what
					}
					if isCell(x.entries[i].key, d) {
						what = "given cell"
					}
					return nil, fmt.Errorf("%w: the total over dimension %d of a %s (dimension %s is multi-valued: give its totals, counted in distinct persons)",
						ErrMissingTotal, j, what, x.multiDims(k))
				}
				t = int32(len(x.entries))
				x.index.set(k, t)
				x.entries = append(x.entries, entry{key: k})
			}
			x.entries[i].up[j] = t
		}
	}
	// Computed totals: the sum of the cells that project onto them. Only totals over
	// additive dimensions are computed, so each cell counts once in each. (The entries beyond
	// the given ones are those computed: when every total was given, there is nothing to add.)
	for i := range x.entries {
		if len(x.entries) == len(t.Cells) {
			break
		}
		if !isCell(x.entries[i].key, d) {
			continue
		}
		for mask := 1; mask < 1<<d; mask++ {
			ti := int32(i)
			for j := 0; j < d; j++ {
				if mask&(1<<j) != 0 {
					ti = x.entries[ti].up[j]
				}
			}
			if t := &x.entries[ti]; !t.given {
				t.count += x.entries[i].count
			}
		}
	}
	x.buildLines()
	return x, x.check()
}

func isCell(k key, d int) bool {
	for j := 0; j < d; j++ {
		if k[j] == all {
			return false
		}
	}
	return true
}

func (x *table) aggregatesMulti(k key) bool {
	for j := 0; j < x.d; j++ {
		if k[j] == all && x.multi[j] {
			return true
		}
	}
	return false
}

func (x *table) multiDims(k key) string {
	var s []string
	for j := 0; j < x.d; j++ {
		if k[j] == all && x.multi[j] {
			s = append(s, fmt.Sprint(j))
		}
	}
	return strings.Join(s, ",")
}

// buildLines groups the entries into lines: for direction j, the entries equal in every
// other dimension. Each entry lies on exactly one line per direction.
func (x *table) buildLines() {
	// First each entry's line per direction, then the lines' members laid out in one array
	// (in entry order within a line), rather than a slice grown per line.
	var size []int32
	// A line in direction j is its entries' key with the j-th coordinate set aside: named
	// by its total, the entry with "all" there (up, or the entry itself). lineOf[t] is the
	// line (+1) whose total is entry t.
	lineOf := make([]int32, len(x.entries))
	for j := 0; j < x.d; j++ {
		clear(lineOf)
		for i := range x.entries {
			e := &x.entries[i]
			t := e.up[j]
			if t < 0 {
				t = int32(i)
			}
			l := lineOf[t] - 1
			if l < 0 {
				l = int32(len(size))
				lineOf[t] = l + 1
				size = append(size, 0)
				x.lineDir = append(x.lineDir, int8(j))
				x.lineTotal = append(x.lineTotal, t)
			}
			size[l]++
			e.lines[j] = l
		}
	}
	members := make([]int32, len(x.entries)*x.d)
	x.lines = make([][]int32, len(size))
	at := 0
	for l, n := range size {
		x.lines[l] = members[at : at : at+int(n)]
		at += int(n)
	}
	for i := range x.entries {
		for j := 0; j < x.d; j++ {
			l := x.entries[i].lines[j]
			x.lines[l] = append(x.lines[l], int32(i))
		}
	}
}

// check verifies what a caller's totals promise: along an additive dimension a total is
// the sum of its line; along a multi-valued one no category counts more persons than the
// total.
func (x *table) check() error {
	for l, members := range x.lines {
		total := x.entries[x.lineTotal[l]].count
		var sum int64
		for _, i := range members {
			if int32(i) == x.lineTotal[l] {
				continue
			}
			c := x.entries[i].count
			sum += c
			if x.multi[x.lineDir[l]] && c > total {
				return fmt.Errorf("%w: a category of multi-valued dimension %d counts more than its total", ErrInconsistent, x.lineDir[l])
			}
		}
		if !x.multi[x.lineDir[l]] && sum != total {
			return fmt.Errorf("%w: along dimension %d a given total is %d, its cells add up to %d", ErrInconsistent, x.lineDir[l], total, sum)
		}
	}
	return nil
}

func (x *table) suppress(k int64, boxes bool) {
	count := make([]int32, len(x.lines)) // suppressed entries per line
	x.hidden = make([][]int32, len(x.lines))
	x.byCount = make([][]int32, len(x.lines))
	x.positive = make([]int32, 0, len(x.entries)*x.d)
	x.costs = make([]int64, len(x.entries))
	if n := len(x.index.dense); n > 0 {
		x.slotCosts = make([]int32, n)
		for i := range x.slotCosts {
			x.slotCosts[i] = refused
		}
	}
	for i := range x.entries {
		c := x.entries[i].count
		if c <= 0 {
			c = refused
		}
		x.setCost(int32(i), c)
	}
	var work []int32
	mark := func(i int32) {
		e := &x.entries[i]
		e.suppressed = true
		if e.count > 0 {
			x.setCost(i, 0)
		}
		for j := 0; j < x.d; j++ {
			l := e.lines[j]
			count[l]++
			if e.count > 0 {
				x.hidden[l] = append(x.hidden[l], i)
			}
			if count[l] == 1 {
				work = append(work, l)
			}
		}
	}
	var primaries []int32
	for i := range x.entries {
		if c := x.entries[i].count; c >= 1 && c < k {
			x.entries[i].primary = true
			primaries = append(primaries, int32(i))
			mark(int32(i))
		}
	}
	if boxes {
		s := &boxSearch{x: x, choice: make([]int32, x.d)}
		x.covered = make([]bool, len(x.entries))
		for _, p := range primaries {
			if !x.covered[p] {
				x.protect(s, p, mark)
			}
		}
	}
	// Every corner of a box has its partner on each of its lines, so the boxes already
	// keep the line rule; the pass below only makes that rule independent of them.
	for len(work) > 0 {
		l := work[len(work)-1]
		work = work[:len(work)-1]
		if count[l] != 1 {
			continue
		}
		if c := x.complement(l, count); c >= 0 {
			mark(c)
		}
	}
}

// lineByCount returns line l's positive entries by count, ties by entry, sorting them on
// the first call. Most lines of a large table hold no small cell whose box is searched
// (a box chosen earlier covers it), so they are never sorted.
func (x *table) lineByCount(l int32) []int32 {
	if x.byCount[l] != nil {
		return x.byCount[l]
	}
	// Sorted as count and entry packed in one integer (a count above 2^32, more persons than
	// there are, would only sort among the largest).
	packed := x.packed[:0]
	for _, i := range x.lines[l] {
		if c := x.entries[i].count; c > 0 {
			packed = append(packed, uint64(min(c, math.MaxUint32))<<32|uint64(i))
		}
	}
	slices.Sort(packed)
	x.packed = packed
	// Never beyond the capacity (each entry is on d lines), so earlier lines stay put; a line
	// without a positive entry gets an empty non-nil slice.
	from := len(x.positive)
	for _, p := range packed {
		x.positive = append(x.positive, int32(p&math.MaxUint32))
	}
	byCount := x.positive[from:len(x.positive):len(x.positive)]
	x.byCount[l] = byCount
	return byCount
}

// complement picks the entry of line l to suppress beside its one suppressed entry: the
// smallest positive released count (hiding least), preferring a cell to a total, then an
// entry whose other lines already need a complement (one suppression serves two lines).
// A zero is taken only when nothing positive is left, which happens only along a
// multi-valued dimension whose total counts persons without any category: such a line is
// no equation, and may keep a single suppressed entry (-1).
func (x *table) complement(l int32, count []int32) int32 {
	best := int32(-1)
	// needy counts the other lines of entry i that hold a single suppressed entry.
	needy := func(i int32) int {
		n := 0
		for j := 0; j < x.d; j++ {
			if o := x.entries[i].lines[j]; o != l && count[o] == 1 {
				n++
			}
		}
		return n
	}
	better := func(a, b int32) bool { // is a a better complement than b
		ea, eb := &x.entries[a], &x.entries[b]
		if (ea.count > 0) != (eb.count > 0) {
			return ea.count > 0
		}
		if ea.count != eb.count {
			return ea.count < eb.count
		}
		if ta, tb := !isCell(ea.key, x.d), !isCell(eb.key, x.d); ta != tb {
			return !ta
		}
		if na, nb := needy(a), needy(b); na != nb {
			return na > nb
		}
		return a < b
	}
	for _, i := range x.lines[l] {
		if x.entries[i].suppressed {
			continue
		}
		if best < 0 || better(i, best) {
			best = i
		}
	}
	return best
}

func (x *table) release() []Released {
	// Given cells keep their order; totals follow in key order: by each dimension's rank of
	// its values sorted as strings ("", the total, first), packed 16 bits a dimension.
	rank := make([][]uint64, x.d)
	for j := 0; j < x.d; j++ {
		vals := x.values[j]
		byString := make([]int32, len(vals))
		for id := range byString {
			byString[id] = int32(id)
		}
		slices.SortFunc(byString, func(a, b int32) int { return strings.Compare(vals[a], vals[b]) })
		rank[j] = make([]uint64, len(vals))
		for r, id := range byString {
			rank[j][id] = uint64(r)
		}
	}
	type ranked struct {
		order uint64
		entry int32
	}
	order := make([]int32, 0, len(x.entries))
	var totals []ranked
	for i := range x.entries {
		k := x.entries[i].key
		if isCell(k, x.d) {
			order = append(order, int32(i))
			continue
		}
		var o uint64
		for j := 0; j < x.d; j++ {
			o = o<<16 | rank[j][k[j]]
		}
		totals = append(totals, ranked{o, int32(i)})
	}
	// No two entries have the same key, so the order is total and needs no stability.
	slices.SortFunc(totals, func(a, b ranked) int { return cmp.Compare(a.order, b.order) })
	for _, t := range totals {
		order = append(order, t.entry)
	}
	out := make([]Released, 0, len(x.entries))
	keys := make([]string, len(x.entries)*x.d) // one allocation for every entry's keys
	for n, i := range order {
		e := &x.entries[i]
		r := Released{Keys: keys[n*x.d : (n+1)*x.d : (n+1)*x.d], Suppressed: e.suppressed, Total: !isCell(e.key, x.d)}
		for j := 0; j < x.d; j++ {
			r.Keys[j] = x.values[j][e.key[j]]
		}
		if !e.suppressed {
			r.Count = e.count
		}
		out = append(out, r)
	}
	return out
}
