package cube

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Dim is a dimension a query can group or filter by.
type Dim int

// The dimensions. Those before HostRegion are stored columns of the rollup; the regions are
// derived from the countries at query time through the Cube's RegionOf.
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
	ReferralStatus
	PartnerType
	ReferralDirection
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
	// ReferralStatus, PartnerType and ReferralDirection describe a referral; "" for every
	// other measure.
	ReferralStatus    string
	PartnerType       string
	ReferralDirection string
	// Persons is the count: persons, or for a measure of things (requests, referrals), those.
	Persons int64
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
	// No return country (a VoT assistance, a registration) reads as None: "" is "all" in a
	// total.
	ret := r.ReturnCountry
	if ret == "" {
		ret = None
	}
	k.dims[ReturnCountry] = c.valueID(ReturnCountry, ret)
	k.dims[Vulnerability] = c.setID(Vulnerability, r.Vulnerabilities, None)
	k.dims[AssistanceType] = c.valueID(AssistanceType, r.AssistanceType)
	k.dims[ExploitationType] = c.setID(ExploitationType, r.ExploitationTypes, Unknown)
	k.dims[ReferralStatus] = c.valueID(ReferralStatus, r.ReferralStatus)
	k.dims[PartnerType] = c.valueID(PartnerType, r.PartnerType)
	k.dims[ReferralDirection] = c.valueID(ReferralDirection, r.ReferralDirection)
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
		if v == None {
			code = None // no return country, no return region
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
		if n := len(c.dicts[(groupCol{dim: d}).stored()].values); n >= 0xffff {
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
			for i := len(group) - 1; i >= 0; i-- {
				k |= uint64(rest%radix[i]) << (16 * (len(group) - 1 - i))
				rest /= radix[i]
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
// over a multi-valued dimension counts each person once. Output values are packed 16 bits per
// dimension, 0xffff standing for "all".
func (c *Cube) expand(q Query, group []groupCol, reduced map[uint64]int64) Result {
	n := len(group)
	const allID = 0xffff
	var res Result
	// Per grouped dimension: the output ids of each stored id, and the output dictionary.
	outIDs := make([][][]uint32, n)
	outDicts := make([]*dict, n)
	for i, g := range group {
		size := len(c.dicts[g.stored()].values)
		outIDs[i] = make([][]uint32, size)
		for v := range size {
			outIDs[i][v], outDicts[i] = c.values(g, uint32(v))
		}
		if outDicts[i] == nil {
			outDicts[i] = c.dicts[g.stored()]
		}
	}
	// rank[i][id] orders dimension i's output ids as their strings sort, from 1 ("all", "",
	// is 0), so that cells sort by packed ranks instead of by comparing strings.
	rank := make([][]uint64, n)
	for i := range n {
		vals := outDicts[i].values
		order := make([]int, len(vals))
		for j := range order {
			order[j] = j
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(vals[a], vals[b]) })
		rank[i] = make([]uint64, len(vals))
		for r, id := range order {
			rank[i][id] = uint64(r + 1)
		}
	}
	multi := false
	for _, g := range group {
		multi = multi || g.dim.MultiValued()
	}
	sums := make([]map[uint64]int64, 1<<n)
	var ids [maxDims][]uint32
	var pos [maxDims]int
	for mask := (1 << n) - 1; mask >= 0; mask-- {
		// A total that adds over a single-valued dimension is the sum of the entries of the
		// finer table that has it: computed from there, a smaller map than the reduced table.
		from := -1
		for j := range n {
			if mask&(1<<j) == 0 && !group[j].dim.MultiValued() {
				from = j
				break
			}
		}
		switch {
		case mask == (1<<n)-1 && !multi:
			// The cells are the reduced entries, mapped to output ids.
			out := make(map[uint64]int64, len(reduced))
			for k, count := range reduced {
				var key uint64
				for i := range n {
					v := uint32(k >> (16 * (n - 1 - i)) & 0xffff)
					key = key<<16 | uint64(outIDs[i][v][0])
				}
				out[key] += count
			}
			sums[mask] = out
		case from >= 0:
			finer := sums[mask|1<<from]
			out := make(map[uint64]int64, len(finer)/2+1)
			shift := 16 * (n - 1 - from)
			for k, count := range finer {
				out[k|uint64(allID)<<shift] += count
			}
			sums[mask] = out
		default:
			out := map[uint64]int64{}
			for k, count := range reduced {
				for i := n - 1; i >= 0; i-- {
					v := uint32(k & 0xffff)
					k >>= 16
					if mask&(1<<i) != 0 {
						ids[i] = outIDs[i][v]
					} else {
						ids[i] = allIDs
					}
					pos[i] = 0
				}
				// Every combination of the dimensions' output ids, odometer-style.
				for {
					var key uint64
					for i := range n {
						key = key<<16 | uint64(ids[i][pos[i]])
					}
					out[key] += count
					i := n - 1
					for ; i >= 0; i-- {
						pos[i]++
						if pos[i] < len(ids[i]) {
							break
						}
						pos[i] = 0
					}
					if i < 0 {
						break
					}
				}
			}
			sums[mask] = out
		}
		type ranked struct {
			order, key uint64
			count      int64
		}
		list := make([]ranked, 0, len(sums[mask]))
		for key, count := range sums[mask] {
			if count == 0 {
				continue
			}
			var order uint64
			for i := range n {
				id := uint32(key >> (16 * (n - 1 - i)) & 0xffff)
				r := uint64(0)
				if id != allID {
					r = rank[i][id]
				}
				order = order<<16 | r
			}
			list = append(list, ranked{order, key, count})
		}
		slices.SortFunc(list, func(a, b ranked) int { return cmp.Compare(a.order, b.order) })
		cells := make([]Cell, len(list))
		for j, e := range list {
			keys := make([]string, n)
			key := e.key
			for i := n - 1; i >= 0; i-- {
				if id := uint32(key & 0xffff); id != allID {
					keys[i] = outDicts[i].values[id]
				}
				key >>= 16
			}
			cells[j] = Cell{Keys: keys, Count: e.count}
		}
		if mask == (1<<n)-1 {
			res.Cells = cells
		} else {
			res.Totals = append(res.Totals, cells...)
		}
	}
	if n == 0 {
		res.Totals = nil // no dimension: the one cell is the grand total
	}
	if len(res.Totals) == 0 && n > 0 {
		res.Totals = []Cell{{Keys: make([]string, n)}}
	}
	return res
}

// allIDs is the output of a dimension a total adds over.
var allIDs = []uint32{0xffff}

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
