package cube

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Dim is a dimension a query can group or filter by.
type Dim int

// The dimensions. The first nine are stored columns of the rollup; the regions are derived
// from the countries at query time through the Cube's RegionOf.
const (
	Year Dim = iota
	Programme
	Sex
	AgeBand
	Nationality
	HostCountry
	ReturnCountry
	Vulnerability
	AssistanceType
	ExploitationType
	HostRegion
	ReturnRegion
	numDims
)

// stored is how many dimensions are columns of their own.
const stored = int(HostRegion)

// MultiValued reports whether a person may count under several values of d.
func (d Dim) MultiValued() bool { return d == Vulnerability || d == ExploitationType }

// None and Unknown are the codes of an empty set and of a value not recorded.
const (
	None    = "NONE"
	Unknown = "UNKNOWN"
)

// Row is one row of analytics.rollup: a count of persons for one combination of every
// stored dimension of one measure.
type Row struct {
	Measure           string
	Year              int
	Programme         string
	Sex               string
	AgeBand           string
	Nationality       string
	HostCountry       string
	ReturnCountry     string
	Vulnerabilities   []string // sorted; empty for none
	AssistanceType    string
	ExploitationTypes []string // sorted; empty when not recorded
	Persons           int64
}

// dict maps strings to dense ids and back. Ids are never reused or removed.
type dict struct {
	ids    map[string]uint32
	values []string
}

func newDict() *dict { return &dict{ids: map[string]uint32{}} }

func (d *dict) id(s string) uint32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	id := uint32(len(d.values))
	d.ids[s] = id
	d.values = append(d.values, s)
	return id
}

// key is a row's identity: the measure and one id per stored dimension.
type key struct {
	measure uint32
	dims    [stored]uint32
}

// Cube holds the rollup in memory. It is safe for concurrent use: queries share a read lock,
// Apply takes the write lock for the time it takes to upsert the changed rows.
type Cube struct {
	regionOf func(alpha3 string) (string, bool)

	mu       sync.RWMutex
	measures *dict
	dicts    [stored]*dict
	// members[d][setID] lists the member ids (in dicts' member dictionary memberDicts[d]) of
	// a multi-valued dimension's set.
	members     [stored][][]uint32
	memberDicts [stored]*dict
	// regions[d] maps a country id of HostCountry/ReturnCountry to a region id in regionDict.
	regions    [stored][]uint32
	regionDict *dict
	years      []int // the year of each Year id

	cols      [stored][]uint32
	persons   []int64
	byKey     map[key]int32
	byMeasure map[uint32][]int32
}

// New returns an empty cube. regionOf gives a country's region code (internal/region);
// countries outside every region, and Unknown, count under Unknown.
func New(regionOf func(alpha3 string) (string, bool)) *Cube {
	c := &Cube{
		regionOf:   regionOf,
		measures:   newDict(),
		regionDict: newDict(),
		byKey:      map[key]int32{},
		byMeasure:  map[uint32][]int32{},
	}
	for d := range stored {
		c.dicts[d] = newDict()
		if Dim(d).MultiValued() {
			c.memberDicts[d] = newDict()
		}
	}
	return c
}

// Len is the number of rows held.
func (c *Cube) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.persons)
}

// Apply upserts rows: a row whose key is held gets the new count, a new key is appended.
func (c *Cube) Apply(rows []Row) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range rows {
		c.apply(&rows[i])
	}
}

func (c *Cube) apply(r *Row) {
	k := key{measure: c.measures.id(r.Measure)}
	k.dims[Year] = c.valueID(Year, strconv.Itoa(r.Year))
	k.dims[Programme] = c.valueID(Programme, r.Programme)
	k.dims[Sex] = c.valueID(Sex, r.Sex)
	k.dims[AgeBand] = c.valueID(AgeBand, r.AgeBand)
	k.dims[Nationality] = c.valueID(Nationality, r.Nationality)
	k.dims[HostCountry] = c.valueID(HostCountry, r.HostCountry)
	k.dims[ReturnCountry] = c.valueID(ReturnCountry, r.ReturnCountry)
	k.dims[Vulnerability] = c.setID(Vulnerability, r.Vulnerabilities, None)
	k.dims[AssistanceType] = c.valueID(AssistanceType, r.AssistanceType)
	k.dims[ExploitationType] = c.setID(ExploitationType, r.ExploitationTypes, Unknown)
	if i, ok := c.byKey[k]; ok {
		c.persons[i] = r.Persons
		return
	}
	i := int32(len(c.persons))
	for d := range stored {
		c.cols[d] = append(c.cols[d], k.dims[d])
	}
	c.persons = append(c.persons, r.Persons)
	c.byKey[k] = i
	c.byMeasure[k.measure] = append(c.byMeasure[k.measure], i)
}

// valueID interns a single-valued dimension's value, and keeps the derived lookups (years,
// regions) in step with the dictionary.
func (c *Cube) valueID(d Dim, v string) uint32 {
	dd := c.dicts[d]
	n := len(dd.values)
	id := dd.id(v)
	if len(dd.values) == n {
		return id
	}
	switch d {
	case Year:
		y, _ := strconv.Atoi(v)
		c.years = append(c.years, y)
	case HostCountry, ReturnCountry:
		code, ok := c.regionOf(v)
		if !ok {
			code = Unknown
		}
		if v == "" {
			code = "" // not applicable to the measure, as the country
		}
		c.regions[d] = append(c.regions[d], c.regionDict.id(code))
	}
	return id
}

// setID interns a multi-valued dimension's set; empty counts under empty.
func (c *Cube) setID(d Dim, set []string, empty string) uint32 {
	dd := c.dicts[d]
	n := len(dd.values)
	id := dd.id(strings.Join(set, ","))
	if len(dd.values) == n {
		return id
	}
	if len(set) == 0 {
		set = []string{empty}
	}
	ms := make([]uint32, len(set))
	for i, m := range set {
		ms[i] = c.memberDicts[d].id(m)
	}
	c.members[d] = append(c.members[d], ms)
	return id
}

// Query is one aggregate: a measure grouped by up to four dimensions, filtered.
type Query struct {
	Measure string
	GroupBy []Dim
	// Filter lists, per dimension, the values counted (region codes for the region
	// dimensions); a dimension without an entry is not filtered. Multi-valued dimensions
	// cannot be filtered.
	Filter map[Dim][]string
	// YearFrom and YearTo bound the years counted; 0 leaves a side open.
	YearFrom, YearTo int
}

// Cell is one count: Keys hold one value per GroupBy dimension, in order; in a total, "" for
// each dimension it adds over.
type Cell struct {
	Keys  []string
	Count int64
}

// Result is an aggregate's cells and its marginal totals, each set sorted by keys. Cells with
// a zero count are left out. Totals are exact, even over multi-valued dimensions (a person is
// counted once in a total that adds over their vulnerabilities).
type Result struct {
	Cells  []Cell
	Totals []Cell
}

// maxDims is the most dimensions a query may group by.
const maxDims = 4

// Aggregate answers q. The measure's rows are scanned once into a reduced table keyed by the
// grouped values (a multi-valued dimension by its set), which is small; cells and every
// marginal total are then computed from it.
func (c *Cube) Aggregate(q Query) (Result, error) {
	if len(q.GroupBy) > maxDims {
		return Result{}, fmt.Errorf("cube: %d dimensions, at most %d", len(q.GroupBy), maxDims)
	}
	for _, d := range q.GroupBy {
		if d < 0 || d >= numDims {
			return Result{}, fmt.Errorf("cube: unknown dimension %d", d)
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	mid, ok := c.measures.ids[q.Measure]
	if !ok {
		return c.empty(q), nil
	}
	for _, d := range q.GroupBy {
		if n := len(c.dicts[(groupCol{dim: d}).stored()].values); n > 1<<16 {
			return Result{}, fmt.Errorf("cube: dimension %d has %d values, more than a query can group", d, n)
		}
	}
	filters, err := c.filters(q)
	if err != nil {
		return Result{}, err
	}
	// The reduced table: one entry per combination of the grouped columns' ids (a region by
	// its country id, a multi-valued dimension by its set id), packed into a uint64.
	group := make([]groupCol, len(q.GroupBy))
	for i, d := range q.GroupBy {
		group[i] = c.groupCol(d)
	}
	reduced := c.scan(c.byMeasure[mid], filters, group)
	return c.expand(q, group, reduced), nil
}

// denseLimit bounds the dense accumulator: when the grouped columns' dictionaries multiply
// to at most this many combinations, counts are added into a flat slice indexed by the
// combination (no hashing); above it, into a map.
const denseLimit = 1 << 21

// scan adds up the persons of rows passing every filter, per combination of the grouped
// columns' ids, packed 16 bits per column into the reduced table's key.
func (c *Cube) scan(rows []int32, filters []filter, group []groupCol) map[uint64]int64 {
	persons := c.persons
	size := 1
	for _, g := range group {
		size *= max(len(c.dicts[g.stored()].values), 1)
		if size > denseLimit {
			break
		}
	}
	reduced := map[uint64]int64{}
	if size <= denseLimit {
		dense := make([]int64, size)
		radix := make([]int, len(group))
		for i, g := range group {
			radix[i] = max(len(c.dicts[g.stored()].values), 1)
		}
	denseScan:
		for _, r := range rows {
			for _, f := range filters {
				if !f.allowed[f.col[r]] {
					continue denseScan
				}
			}
			idx := 0
			for i, g := range group {
				idx = idx*radix[i] + int(g.col[r])
			}
			dense[idx] += persons[r]
		}
		for idx, n := range dense {
			if n == 0 {
				continue
			}
			var k uint64
			rest := idx
			ids := make([]uint64, len(group))
			for i := len(group) - 1; i >= 0; i-- {
				ids[i] = uint64(rest % radix[i])
				rest /= radix[i]
			}
			for _, id := range ids {
				k = k<<16 | id
			}
			reduced[k] = n
		}
		return reduced
	}
scan:
	for _, r := range rows {
		for _, f := range filters {
			if !f.allowed[f.col[r]] {
				continue scan
			}
		}
		var k uint64
		for _, g := range group {
			k = k<<16 | uint64(g.col[r])
		}
		reduced[k] += persons[r]
	}
	return reduced
}

// groupCol is a grouped dimension's stored column and how its ids become output values.
type groupCol struct {
	dim Dim
	col []uint32
}

// stored is the stored dimension whose ids g's column holds.
func (g groupCol) stored() Dim {
	switch g.dim {
	case HostRegion:
		return HostCountry
	case ReturnRegion:
		return ReturnCountry
	}
	return g.dim
}

func (c *Cube) groupCol(d Dim) groupCol {
	switch d {
	case HostRegion:
		return groupCol{dim: d, col: c.cols[HostCountry]}
	case ReturnRegion:
		return groupCol{dim: d, col: c.cols[ReturnCountry]}
	}
	return groupCol{dim: d, col: c.cols[d]}
}

// values returns the output value ids (and the dictionary they index) of stored id v of g.
func (c *Cube) values(g groupCol, v uint32) ([]uint32, *dict) {
	switch g.dim {
	case HostRegion:
		return []uint32{c.regions[HostCountry][v]}, c.regionDict
	case ReturnRegion:
		return []uint32{c.regions[ReturnCountry][v]}, c.regionDict
	case Vulnerability, ExploitationType:
		return c.members[g.dim][v], c.memberDicts[g.dim]
	}
	return []uint32{v}, c.dicts[g.dim]
}

type filter struct {
	col     []uint32
	allowed []bool
}

// filters turns q's filter into, per filtered column, which of its ids are counted.
func (c *Cube) filters(q Query) ([]filter, error) {
	var out []filter
	if q.YearFrom != 0 || q.YearTo != 0 {
		allowed := make([]bool, len(c.years))
		for id, y := range c.years {
			allowed[id] = (q.YearFrom == 0 || y >= q.YearFrom) && (q.YearTo == 0 || y <= q.YearTo)
		}
		out = append(out, filter{col: c.cols[Year], allowed: allowed})
	}
	dims := make([]Dim, 0, len(q.Filter))
	for d := range q.Filter {
		dims = append(dims, d)
	}
	slices.Sort(dims)
	for _, d := range dims {
		vs := q.Filter[d]
		if d.MultiValued() || d < 0 || d >= numDims {
			return nil, fmt.Errorf("cube: dimension %d cannot be filtered", d)
		}
		want := map[string]bool{}
		for _, v := range vs {
			want[v] = true
		}
		switch d {
		case HostRegion, ReturnRegion:
			country := HostCountry
			if d == ReturnRegion {
				country = ReturnCountry
			}
			allowed := make([]bool, len(c.regions[country]))
			for id, rid := range c.regions[country] {
				allowed[id] = want[c.regionDict.values[rid]]
			}
			out = append(out, filter{col: c.cols[country], allowed: allowed})
		default:
			allowed := make([]bool, len(c.dicts[d].values))
			for id, v := range c.dicts[d].values {
				allowed[id] = want[v]
			}
			out = append(out, filter{col: c.cols[d], allowed: allowed})
		}
	}
	return out, nil
}

// expand turns the reduced table into cells and marginal totals. For every subset of the
// grouped dimensions (all of them: the cells; fewer: a total), each reduced entry adds its
// count once to every combination of the subset's output values it holds: once for a
// single-valued dimension, once per member for a multi-valued one, so that a total that adds
// over a multi-valued dimension counts each person once.
func (c *Cube) expand(q Query, group []groupCol, reduced map[uint64]int64) Result {
	n := len(group)
	type acc struct {
		keys  []uint32
		count int64
	}
	var res Result
	for mask := (1 << n) - 1; mask >= 0; mask-- {
		sums := map[[maxDims]uint32]*acc{}
		var outDicts [maxDims]*dict
		for k, count := range reduced {
			var ids [maxDims][]uint32
			for i := n - 1; i >= 0; i-- {
				v := uint32(k & 0xffff)
				k >>= 16
				if mask&(1<<i) != 0 {
					ids[i], outDicts[i] = c.values(group[i], v)
				} else {
					ids[i] = []uint32{^uint32(0)} // "all"
				}
			}
			var combo [maxDims]uint32
			var walk func(i int)
			walk = func(i int) {
				if i == n {
					a := sums[combo]
					if a == nil {
						a = &acc{}
						sums[combo] = a
					}
					a.count += count
					return
				}
				for _, v := range ids[i] {
					combo[i] = v
					walk(i + 1)
				}
			}
			walk(0)
		}
		cells := make([]Cell, 0, len(sums))
		for combo, a := range sums {
			if a.count == 0 {
				continue
			}
			keys := make([]string, n)
			for i := range n {
				if combo[i] != ^uint32(0) {
					keys[i] = outDicts[i].values[combo[i]]
				}
			}
			cells = append(cells, Cell{Keys: keys, Count: a.count})
		}
		sortCells(cells)
		if mask == (1<<n)-1 {
			res.Cells = cells
		} else {
			res.Totals = append(res.Totals, cells...)
		}
	}
	if n == 0 {
		// No dimension: the one cell is the grand total.
		res.Totals = nil
	}
	if len(res.Totals) == 0 && n > 0 {
		res.Totals = []Cell{{Keys: make([]string, n)}}
	}
	return res
}

// empty is the result of a measure without any row: no cell, a grand total of zero.
func (c *Cube) empty(q Query) Result {
	if len(q.GroupBy) == 0 {
		return Result{Cells: []Cell{{Keys: []string{}}}}
	}
	return Result{Totals: []Cell{{Keys: make([]string, len(q.GroupBy))}}}
}

func sortCells(cells []Cell) {
	slices.SortFunc(cells, func(a, b Cell) int { return slices.Compare(a.Keys, b.Keys) })
}
