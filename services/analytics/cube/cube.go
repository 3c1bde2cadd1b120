package cube

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
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

// dict maps strings to dense ids and back. Ids are never reused or removed, and fit 16 bits:
// a dimension holds at most maxValues values (codes and countries: a few hundred at most).
type dict struct {
	ids    map[string]uint16
	values []string
}

// maxValues is the most values a dimension may hold. 0xffff is kept free: it stands for "all"
// in the reduced keys of a query.
const maxValues = 0xffff

// ErrTooManyValues is returned by Apply for a row whose value would be a dimension's
// 65,536th: the row is not applied.
var ErrTooManyValues = errors.New("cube: a dimension holds too many values")

func newDict() *dict { return &dict{ids: map[string]uint16{}} }

// lookup returns v's id, and whether v is new; a new value beyond maxValues is refused.
func (d *dict) lookup(v string) (id uint16, added, ok bool) {
	if id, ok := d.ids[v]; ok {
		return id, false, true
	}
	if len(d.values) >= maxValues {
		return 0, false, false
	}
	id = uint16(len(d.values))
	d.ids[v] = id
	d.values = append(d.values, v)
	return id, true, true
}

// key is a row's identity within its measure: one id per stored dimension.
type key [stored]uint16

// part holds one measure's rows at one grain (see grain): a column of ids per stored
// dimension, the counts, and the row of each key. A measure's rows are contiguous, so a query
// reads only its measure's memory, two bytes a column a row.
type part struct {
	grain   *grain
	cols    [stored][]uint16
	persons []int64
	byKey   map[key]int32
}

func newPart(g *grain) *part { return &part{grain: g, byKey: map[key]int32{}} }

// add adds delta to k's count (appending k at zero first); set puts n.
func (p *part) add(k key, delta int64) {
	if i, ok := p.byKey[k]; ok {
		p.persons[i] += delta
		return
	}
	p.byKey[k] = int32(len(p.persons))
	for d := range stored {
		p.cols[d] = append(p.cols[d], k[d])
	}
	p.persons = append(p.persons, delta)
}

// Cube holds the rollup in memory. It is safe for concurrent use: queries share a read lock,
// Apply takes the write lock for the time it takes to upsert the changed rows.
type Cube struct {
	regionOf func(alpha3 string) (string, bool)

	mu       sync.RWMutex
	measures map[string]int
	dicts    [stored]*dict
	// members[d][setID] lists the member ids (in dicts' member dictionary memberDicts[d]) of
	// a multi-valued dimension's set.
	members     [stored][][]uint16
	memberDicts [stored]*dict
	// regions[d] maps a country id of HostCountry/ReturnCountry to a region id in regionDict,
	// and delegates[d] a region id back to one of its country ids (see grain).
	regions    [stored][]uint16
	delegates  [stored][]uint16
	regionDict *dict
	years      []int // the year of each Year id

	// parts[m][g] holds measure m's rows at grains[g]; grains[0] is the rollup itself.
	parts [][]*part

	// reducedOnly answers every query through the reduced table, never the dense path: the
	// tests compare both with the same brute force (export_test.go).
	reducedOnly bool

	// versions counts the changes to each measure's year (see Version).
	versions map[measureYear]uint64
}

type measureYear struct {
	measure string
	year    int
}

// New returns an empty cube. regionOf gives a country's region code (internal/region);
// countries outside every region, and Unknown, count under Unknown.
func New(regionOf func(alpha3 string) (string, bool)) *Cube {
	c := &Cube{regionOf: regionOf, measures: map[string]int{}, regionDict: newDict(), versions: map[measureYear]uint64{}}
	for d := range stored {
		c.dicts[d] = newDict()
		if Dim(d).MultiValued() {
			c.memberDicts[d] = newDict()
		}
	}
	return c
}

// Len is the number of rows of the rollup held.
func (c *Cube) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, ps := range c.parts {
		n += len(ps[0].persons)
	}
	return n
}

// GrainRows is how many rows each grain holds, over every measure, by the grain's name.
func (c *Cube) GrainRows() map[string]int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := map[string]int{}
	for _, ps := range c.parts {
		for _, p := range ps {
			out[p.grain.name] += len(p.persons)
		}
	}
	return out
}

// Apply upserts rows: a row whose key is held gets the new count, a new key is appended, and
// every coarser grain of the measure moves by the difference. A row with a value its
// dimension has no room for is skipped (ErrTooManyValues, after the others are applied).
func (c *Cube) Apply(rows []Row) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for i := range rows {
		if !c.apply(&rows[i]) {
			err = ErrTooManyValues
		}
	}
	return err
}

// columns reads each stored dimension's value from a Row: adding a dimension is a field of
// Row, a constant before HostRegion, and a line here.
var columns = [stored]struct {
	value func(*Row) string   // a single-valued dimension's value
	set   func(*Row) []string // a multi-valued dimension's set
	empty string              // what an empty set counts under
}{
	Year:        {value: func(r *Row) string { return strconv.Itoa(r.Year) }},
	Programme:   {value: func(r *Row) string { return r.Programme }},
	Sex:         {value: func(r *Row) string { return r.Sex }},
	AgeBand:     {value: func(r *Row) string { return r.AgeBand }},
	Nationality: {value: func(r *Row) string { return r.Nationality }},
	HostCountry: {value: func(r *Row) string { return r.HostCountry }},
	// No return country (a VoT assistance, a registration) reads as None: "" is "all" in a
	// total.
	ReturnCountry:     {value: func(r *Row) string { return cmp.Or(r.ReturnCountry, None) }},
	Vulnerability:     {set: func(r *Row) []string { return r.Vulnerabilities }, empty: None},
	AssistanceType:    {value: func(r *Row) string { return r.AssistanceType }},
	ExploitationType:  {set: func(r *Row) []string { return r.ExploitationTypes }, empty: Unknown},
	ReferralStatus:    {value: func(r *Row) string { return r.ReferralStatus }},
	PartnerType:       {value: func(r *Row) string { return r.PartnerType }},
	ReferralDirection: {value: func(r *Row) string { return r.ReferralDirection }},
}

func (c *Cube) apply(r *Row) bool {
	var k key
	for d, col := range columns {
		var ok bool
		if col.set != nil {
			k[d], ok = c.setID(Dim(d), col.set(r), col.empty)
		} else {
			k[d], ok = c.valueID(Dim(d), col.value(r))
		}
		if !ok {
			return false
		}
	}
	m, ok := c.measures[r.Measure]
	if !ok {
		m = len(c.parts)
		c.measures[r.Measure] = m
		ps := make([]*part, len(grains))
		for g := range grains {
			ps[g] = newPart(&grains[g])
		}
		c.parts = append(c.parts, ps)
	}
	ps := c.parts[m]
	full := ps[0]
	delta := r.Persons
	if i, ok := full.byKey[k]; ok {
		delta -= full.persons[i]
	}
	full.add(k, delta)
	for _, p := range ps[1:] {
		p.add(c.coarsen(p.grain, k), delta)
	}
	if delta != 0 {
		c.versions[measureYear{r.Measure, r.Year}]++
	}
	return true
}

// Version counts the changes applied so far to the rows of measure's year: a result computed
// from that year is current while its version is.
func (c *Cube) Version(measure string, year int) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.versions[measureYear{measure, year}]
}

// valueID interns a single-valued dimension's value, and keeps the derived lookups (years,
// regions) in step with the dictionary.
func (c *Cube) valueID(d Dim, v string) (uint16, bool) {
	id, added, ok := c.dicts[d].lookup(v)
	if !ok || !added {
		return id, ok
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
		rid, _, ok := c.regionDict.lookup(code)
		if !ok {
			return 0, false // never: regions are a few dozen codes
		}
		c.regions[d] = append(c.regions[d], rid)
		// Region ids are shared by both country dimensions, so this one may meet a region
		// after regions it has not met yet: their slots wait for a country of their own.
		for len(c.delegates[d]) <= int(rid) {
			c.delegates[d] = append(c.delegates[d], noDelegate)
		}
		if c.delegates[d][rid] == noDelegate {
			c.delegates[d][rid] = id // the region's first country
		}
	}
	return id, true
}

// setID interns a multi-valued dimension's set; empty counts under empty.
func (c *Cube) setID(d Dim, set []string, empty string) (uint16, bool) {
	id, added, ok := c.dicts[d].lookup(strings.Join(set, ","))
	if !ok || !added {
		return id, ok
	}
	if len(set) == 0 {
		set = []string{empty}
	}
	ms := make([]uint16, len(set))
	for i, m := range set {
		mid, _, ok := c.memberDicts[d].lookup(m)
		if !ok {
			return 0, false
		}
		ms[i] = mid
	}
	c.members[d] = append(c.members[d], ms)
	return id, true
}

// A grain is a coarser copy of the rollup kept beside it: the country columns either kept,
// dropped, or coarsened to their region. Most questions group by none or one of the three
// countries (by regions, years, sex, age, vulnerability, assistance), and a grain without
// the countries they do not read is tens of times smaller than the rollup, so scanned that
// much faster. Each grain is exact: Apply moves it by the difference of every rollup row it
// changes. A query reads the smallest grain that holds every dimension it groups or filters
// by.
//
// A coarsened column holds, for each row, one country of the row's region (its delegate):
// grouping and filtering by region then read it as they read the rollup's country column.
// Grouping or filtering by the country itself needs a grain that keeps it.
type grain struct {
	name    string
	country [stored]treatment // per stored dimension; only the countries are ever not kept
}

type treatment uint8

const (
	keep treatment = iota
	drop
	coarsen
)

// grains are the grains every measure is kept at, the rollup first. Nationality has no
// region dimension: where it is not kept, it is dropped.
var grains = []grain{
	{name: "rollup"},
	{name: "regions", country: countries(drop, coarsen, coarsen)},
	{name: "nationality", country: countries(keep, coarsen, coarsen)},
	{name: "host country", country: countries(drop, keep, coarsen)},
	{name: "return country", country: countries(drop, coarsen, keep)},
}

func countries(nationality, host, ret treatment) [stored]treatment {
	var t [stored]treatment
	t[Nationality], t[HostCountry], t[ReturnCountry] = nationality, host, ret
	return t
}

// noDelegate marks a region no country of a dimension has been met in yet.
const noDelegate = 0xffff

// coarsen maps a rollup key to g's.
func (c *Cube) coarsen(g *grain, k key) key {
	for d, t := range g.country {
		switch t {
		case drop:
			k[d] = 0
		case coarsen:
			k[d] = c.delegates[d][c.regions[d][k[d]]]
		}
	}
	return k
}

// holds reports whether g can answer for dimension d.
func (g *grain) holds(d Dim) bool {
	switch d {
	case HostRegion:
		return g.country[HostCountry] != drop
	case ReturnRegion:
		return g.country[ReturnCountry] != drop
	}
	return g.country[d] == keep
}

// pick returns the smallest of a measure's parts whose grain holds every dimension q reads.
func pick(ps []*part, q Query) *part {
	best := ps[0]
	for _, p := range ps[1:] {
		if len(p.persons) >= len(best.persons) {
			continue
		}
		ok := true
		for _, d := range q.GroupBy {
			ok = ok && p.grain.holds(d)
		}
		for d := range q.Filter {
			ok = ok && p.grain.holds(d)
		}
		if ok {
			best = p
		}
	}
	return best
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

// Result is an aggregate's cells and its marginal totals, each set sorted by keys ("" first).
// Entries with a zero count are left out, but for the grand total, always among the totals of
// a query with dimensions. Totals are exact, even over multi-valued dimensions (a person is
// counted once in a total that adds over their vulnerabilities).
type Result struct {
	Cells  []Cell
	Totals []Cell
}

// maxDims is the most dimensions a query may group by.
const maxDims = 4

// Aggregate answers q. The rows of the smallest grain of the measure that holds what q reads
// are scanned once into a reduced table keyed by the grouped values (a multi-valued dimension
// by its set), which is small; cells and every marginal total are then computed from it.
func (c *Cube) Aggregate(q Query) (Result, error) {
	if len(q.GroupBy) > maxDims {
		return Result{}, fmt.Errorf("cube: %d dimensions, at most %d", len(q.GroupBy), maxDims)
	}
	for _, d := range q.GroupBy {
		if d < 0 || d >= numDims {
			return Result{}, fmt.Errorf("cube: unknown dimension %d", d)
		}
	}
	for d := range q.Filter {
		if d.MultiValued() || d < 0 || d >= numDims {
			return Result{}, fmt.Errorf("cube: dimension %d cannot be filtered", d)
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.measures[q.Measure]
	if !ok {
		return c.empty(q), nil
	}
	p := pick(c.parts[m], q)
	filters := c.filters(p, q)
	// The reduced table: one entry per combination of the grouped columns' ids (a region by
	// its country id, a multi-valued dimension by its set id), packed into a uint64.
	group := make([]groupCol, len(q.GroupBy))
	for i, d := range q.GroupBy {
		group[i] = groupColOf(p, d)
	}
	if !c.reducedOnly {
		if res, ok := c.aggregateDense(p, filters, group); ok {
			return res, nil
		}
	}
	reduced := c.scan(p, filters, group)
	return c.expand(q, group, reduced), nil
}

// denseLimit bounds the dense accumulators: when the grouped columns' dictionaries multiply
// to at most this many combinations (for all the scan's goroutines together), counts are
// added into flat slices indexed by the combination (no hashing); above it, into maps.
const denseLimit = 1 << 21

// minShare is the fewest rows worth a goroutine of their own.
const minShare = 1 << 15

// scan adds up the persons of p's rows passing every filter, per combination of the grouped
// columns' ids, packed 16 bits per column into the reduced table's key. Large parts are
// split among GOMAXPROCS goroutines, each adding into its own accumulator, summed at the end.
func (c *Cube) scan(p *part, filters []filter, group []groupCol) map[uint64]int64 {
	rows := len(p.persons)
	workers := max(min(runtime.GOMAXPROCS(0), rows/minShare), 1)
	size := 1
	radix := make([]int, len(group))
	for i, g := range group {
		radix[i] = max(len(c.dicts[g.stored()].values), 1)
		size *= radix[i]
		if size > denseLimit {
			break
		}
	}
	share := func(w int) (int, int) { return rows * w / workers, rows * (w + 1) / workers }
	if size*workers > denseLimit && size <= denseLimit {
		workers = 1 // one dense accumulator rather than several maps
	}
	if size <= denseLimit {
		dense := make([][]int64, workers)
		parallel(workers, func(w int) {
			dense[w] = getDense(size)
			lo, hi := share(w)
			scanDense(p.persons, lo, hi, filters, group, nil, radix, dense[w])
		})
		sum := dense[0]
		for _, d := range dense[1:] {
			for i, n := range d {
				sum[i] += n
			}
			putDense(d)
		}
		defer putDense(sum)
		reduced := map[uint64]int64{}
		for idx, n := range sum {
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
	// Above denseLimit the combinations are many, so the goroutines' maps would each hold
	// most of them and merging them cost as much as the scan: one goroutine, one map.
	reduced := map[uint64]int64{}
	scanMap(p.persons, 0, rows, filters, group, reduced)
	return reduced
}

// denses recycles the dense accumulators: at up to 16 MiB each, allocating one per query
// was a third of the bytes the server allocated under the benchmark.
var denses sync.Pool

// getDense returns a zeroed accumulator of size counts.
func getDense(size int) []int64 {
	if d, ok := denses.Get().(*[]int64); ok && cap(*d) >= size {
		s := (*d)[:size]
		clear(s)
		return s
	}
	return make([]int64, size)
}

func putDense(d []int64) { denses.Put(&d) }

// parallel runs f(0) to f(n-1), each on a goroutine of its own but the first, and waits.
func parallel(n int, f func(int)) {
	var wg sync.WaitGroup
	for w := 1; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w)
		}()
	}
	f(0)
	wg.Wait()
}

// block is how many rows scanDense handles a column at a time.
const block = 512

// scanDense adds the persons of rows lo to hi passing every filter into dense, at each row's
// combination of the grouped columns' slots (mixed radix): slots[i] maps column i's ids to
// its slots (none: the ids are the slots). It works a block of rows at a time and one column
// at a time, so that every loop is a tight one over one column rather than a loop over the
// columns for every row: the filters first narrow the block to the rows that pass (a
// selection vector), and only those rows' combinations are computed.
func scanDense(persons []int64, lo, hi int, filters []filter, group []groupCol, slots [][]int32, radix []int, dense []int64) {
	var idx, selected [block]int32
	for from := lo; from < hi; from += block {
		n := min(block, hi-from)
		if len(filters) == 0 {
			ix := idx[:n]
			clear(ix)
			for i, g := range group {
				col, r := g.col[from:from+n], int32(radix[i])
				if slots != nil {
					slot := slots[i]
					for j, v := range col {
						ix[j] = ix[j]*r + slot[v]
					}
				} else {
					for j, v := range col {
						ix[j] = ix[j]*r + int32(v)
					}
				}
			}
			for j, p := range persons[from : from+n] {
				dense[ix[j]] += p
			}
			continue
		}
		// Every row is written to the selection and kept by advancing past it when it passes:
		// no branch to mispredict when about half the rows pass.
		sel, kept := selected[:n], 0
		f := filters[0]
		for j, v := range f.col[from : from+n] {
			sel[kept] = int32(j)
			kept += int(f.pass[v])
		}
		sel = sel[:kept]
		for _, f := range filters[1:] {
			col, kept := f.col[from:from+n], 0
			for _, j := range sel {
				sel[kept] = j
				kept += int(f.pass[col[j]])
			}
			sel = sel[:kept]
		}
		ix := idx[:len(sel)]
		clear(ix)
		for i, g := range group {
			col, r := g.col[from:from+n], int32(radix[i])
			if slots != nil {
				slot := slots[i]
				for t, j := range sel {
					ix[t] = ix[t]*r + slot[col[j]]
				}
			} else {
				for t, j := range sel {
					ix[t] = ix[t]*r + int32(col[j])
				}
			}
		}
		ps := persons[from : from+n]
		for t, j := range sel {
			dense[ix[t]] += ps[j]
		}
	}
}

func scanMap(persons []int64, lo, hi int, filters []filter, group []groupCol, reduced map[uint64]int64) {
rows:
	for r := lo; r < hi; r++ {
		for _, f := range filters {
			if f.pass[f.col[r]] == 0 {
				continue rows
			}
		}
		var k uint64
		for _, g := range group {
			k = k<<16 | uint64(g.col[r])
		}
		reduced[k] += persons[r]
	}
}

// groupCol is a grouped dimension's stored column and how its ids become output values.
type groupCol struct {
	dim Dim
	col []uint16
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

func groupColOf(p *part, d Dim) groupCol {
	g := groupCol{dim: d}
	g.col = p.cols[g.stored()]
	return g
}

// values returns the output value ids of stored id v of g, in outputDict(g).
func (c *Cube) values(g groupCol, v uint16) []uint16 {
	switch g.dim {
	case HostRegion:
		return []uint16{c.regions[HostCountry][v]}
	case ReturnRegion:
		return []uint16{c.regions[ReturnCountry][v]}
	case Vulnerability, ExploitationType:
		return c.members[g.dim][v]
	}
	return []uint16{v}
}

// outputDict is the dictionary of g's output values: a region's, a multi-valued dimension's
// members', or g's own.
func (c *Cube) outputDict(g groupCol) *dict {
	switch g.dim {
	case HostRegion, ReturnRegion:
		return c.regionDict
	case Vulnerability, ExploitationType:
		return c.memberDicts[g.dim]
	}
	return c.dicts[g.dim]
}

type filter struct {
	col []uint16
	// pass[id] is 1 when the rows holding id are counted, 0 when not: a number, so that the
	// scan narrows a block without a branch per row (see scanDense).
	pass []uint8
}

// filters turns q's filter (checked by Aggregate) into, per filtered column of p, which of its
// ids are counted.
func (c *Cube) filters(p *part, q Query) []filter {
	var out []filter
	if q.YearFrom != 0 || q.YearTo != 0 {
		pass := make([]uint8, len(c.years))
		for id, y := range c.years {
			pass[id] = one((q.YearFrom == 0 || y >= q.YearFrom) && (q.YearTo == 0 || y <= q.YearTo))
		}
		out = append(out, filter{col: p.cols[Year], pass: pass})
	}
	dims := make([]Dim, 0, len(q.Filter))
	for d := range q.Filter {
		dims = append(dims, d)
	}
	slices.Sort(dims)
	for _, d := range dims {
		want := map[string]bool{}
		for _, v := range q.Filter[d] {
			want[v] = true
		}
		switch d {
		case HostRegion, ReturnRegion:
			country := HostCountry
			if d == ReturnRegion {
				country = ReturnCountry
			}
			pass := make([]uint8, len(c.regions[country]))
			for id, rid := range c.regions[country] {
				pass[id] = one(want[c.regionDict.values[rid]])
			}
			out = append(out, filter{col: p.cols[country], pass: pass})
		default:
			pass := make([]uint8, len(c.dicts[d].values))
			for id, v := range c.dicts[d].values {
				pass[id] = one(want[v])
			}
			out = append(out, filter{col: p.cols[d], pass: pass})
		}
	}
	return out
}

// one is 1 for true, 0 for false.
func one(b bool) uint8 {
	if b {
		return 1
	}
	return 0
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
	outIDs := make([][][]uint16, n)
	outDicts := make([]*dict, n)
	for i, g := range group {
		size := len(c.dicts[g.stored()].values)
		outIDs[i] = make([][]uint16, size)
		for v := range size {
			outIDs[i][v] = c.values(g, uint16(v))
		}
		outDicts[i] = c.outputDict(g)
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
	multi, derived := false, false // a multi-valued dimension, a region
	for _, g := range group {
		multi = multi || g.dim.MultiValued()
		derived = derived || g.dim != g.stored()
	}
	sums := make([]map[uint64]int64, 1<<n)
	// Every cell and total, with its order: its dimensions' ranks packed 16 bits each.
	type ranked struct {
		order, key uint64
		count      int64
	}
	var cells, totals []ranked
	var ids [maxDims][]uint16
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
		case mask == (1<<n)-1 && !multi && !derived:
			// The cells are the reduced entries: no dimension maps its ids to others.
			sums[mask] = reduced
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
		list := &totals
		if mask == (1<<n)-1 {
			list = &cells
		}
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
			*list = append(*list, ranked{order, key, count})
		}
	}
	// Cells, then totals, in key order: by rank, "all" (0) first.
	read := func(list []ranked) []Cell {
		slices.SortFunc(list, func(a, b ranked) int { return cmp.Compare(a.order, b.order) })
		out := make([]Cell, len(list))
		backing := make([]string, len(list)*n) // one allocation for every cell's keys
		for j, e := range list {
			keys := backing[j*n : (j+1)*n : (j+1)*n]
			key := e.key
			for i := n - 1; i >= 0; i-- {
				if id := uint32(key & 0xffff); id != allID {
					keys[i] = outDicts[i].values[id]
				}
				key >>= 16
			}
			out[j] = Cell{Keys: keys, Count: e.count}
		}
		return out
	}
	res.Cells, res.Totals = read(cells), read(totals)
	if n == 0 {
		res.Totals = nil // no dimension: the one cell is the grand total
	}
	if len(res.Totals) == 0 && n > 0 {
		res.Totals = []Cell{{Keys: make([]string, n)}}
	}
	return res
}

// allIDs is the output of a dimension a total adds over.
var allIDs = []uint16{0xffff}

// empty is the result of a measure without any row: no cell, a grand total of zero.
func (c *Cube) empty(q Query) Result {
	if len(q.GroupBy) == 0 {
		return Result{Cells: []Cell{{Keys: []string{}}}}
	}
	return Result{Totals: []Cell{{Keys: make([]string, len(q.GroupBy))}}}
}
