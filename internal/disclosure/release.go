package disclosure

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// MaxCoverDimensions is the most dimensions one release covers. A release answers every
// table over any subset of its dimensions, so it is a "cover" of linked tables; three
// (referral status, partner type, direction) are the most HQ publishes together.
const MaxCoverDimensions = 3

// Level is how finely a key names a dimension's values.
type Level uint8

// The levels of a dimension: all of it, a group of values (a region), one value.
const (
	LevelAll Level = iota
	LevelGroup
	LevelValue
)

// Key names one node of a dimension: Value "" is all of it (Group ignored); Group true
// names a group of values (a region), false a value (a country).
type Key struct {
	Value string
	Group bool
}

// level is the Level k names.
func (k Key) level() Level {
	switch {
	case k.Value == "":
		return LevelAll
	case k.Group:
		return LevelGroup
	default:
		return LevelValue
	}
}

// Dimension describes one dimension of a Cover.
type Dimension struct {
	// GroupOf gives the group of a value, for a dimension released at two levels (a
	// country's region); nil for a flat dimension. Every value must have a group: the
	// groups partition the values.
	GroupOf func(value string) (string, bool)
	// MultiValued marks a dimension whose categories a person may hold several of at once
	// (vulnerability, type of exploitation). Such a dimension is a cover on its own.
	MultiValued bool
}

// Cover is what Protect protects: the counts of persons of one population (one measure, one
// year, one programme) by every combination of values of up to three dimensions.
type Cover struct {
	Dimensions []Dimension
	// Cells hold one count per combination of values present (keys are values, never "").
	Cells []Cell
	// Persons is the number of distinct persons; it must be given for a multi-valued
	// dimension (whose categories do not add up to it), and is checked otherwise.
	Persons int64
}

// Errors of Protect (never naming a value: values may be rare categories, and errors are
// logged).
var (
	ErrCover      = errors.New("disclosure: a cover has 1 to 3 dimensions, a multi-valued one alone")
	ErrGroup      = errors.New("disclosure: a value of a grouped dimension has no group")
	ErrCoverTotal = errors.New("disclosure: the persons of a cover do not match its cells")
)

// Release is one protected release: every entry of a Cover (each combination of a node per
// dimension: a value, a group or all of it) with its count, released or withheld. Every
// number a caller publishes from the population must be an entry of its Release, or a sum
// of released entries: see the package documentation for why that, and only that, keeps
// every answer safe when answers are combined.
//
// A Release is immutable and safe for concurrent use.
type Release struct {
	k    int64
	dims []*nodes
	// keys are the packed coordinates of the entries, ascending; counts and hidden are
	// theirs, by the same index.
	keys   []uint64
	counts []int64
	hidden []bool
	// bySignature lists the entries (their indexes, ascending) by the level of each of their
	// keys, for Entries.
	bySignature map[signature][]int32
	// moves[i] is the certificate of the i-th small entry: persons moved so that it empties
	// with every released entry unchanged (see Certificates).
	moves []Move
	// withheldAll is set when the population itself is smaller than k: nothing is released.
	withheldAll bool
}

type signature [MaxCoverDimensions]Level

// nodes numbers one dimension's nodes: 0 is all of it, then groups, then values.
type nodes struct {
	multi  bool
	names  []string
	levels []Level
	parent []int32
	ids    map[Key]int32
	// children[n] lists the nodes whose parent is n.
	children [][]int32
	// delegate[g] is the value of group g (or of all) that persons moved into g are given:
	// its largest value.
	delegate []int32
	count    []int64 // persons under each node (a value's or group's line total)
	// pos numbers the nodes in order: all, then each child of all followed by its own
	// children (a group's values), in the order they were met.
	pos []int32
}

func newNodes(multi bool) *nodes {
	return &nodes{multi: multi, names: []string{""}, levels: []Level{LevelAll}, parent: []int32{-1},
		ids: map[Key]int32{{}: 0}, children: [][]int32{nil}, delegate: []int32{-1}, count: []int64{0}}
}

func (n *nodes) add(k Key, parent int32) int32 {
	if id, ok := n.ids[k]; ok {
		return id
	}
	id := int32(len(n.names))
	n.ids[k] = id
	n.names = append(n.names, k.Value)
	n.levels = append(n.levels, k.level())
	n.parent = append(n.parent, parent)
	n.children = append(n.children, nil)
	n.children[parent] = append(n.children[parent], id)
	n.delegate = append(n.delegate, -1)
	n.count = append(n.count, 0)
	return id
}

// ancestors puts id and the nodes above it, itself first, into out and returns how many:
// at most three (a value, its group, all).
func (n *nodes) ancestors(id int32, out *[3]int32) int {
	k := 0
	for a := id; a >= 0; a = n.parent[a] {
		out[k] = a
		k++
	}
	return k
}

// number sets pos.
func (n *nodes) number() {
	n.pos = make([]int32, len(n.names))
	next := int32(0)
	var walk func(id int32)
	walk = func(id int32) {
		n.pos[id] = next
		next++
		for _, ch := range n.children[id] {
			walk(ch)
		}
	}
	walk(0)
}

// nodeBits is the room of one node id in a packed entry key.
const nodeBits = 21

type coords [MaxCoverDimensions]int32

func pack3(c coords) uint64 {
	return uint64(c[0]) | uint64(c[1])<<nodeBits | uint64(c[2])<<(2*nodeBits)
}

func unpack3(p uint64) coords {
	const mask = 1<<nodeBits - 1
	return coords{int32(p & mask), int32(p >> nodeBits & mask), int32(p >> (2 * nodeBits) & mask)}
}

// Move is the certificate that one small entry can be empty: persons taken from cells and
// given other values of one dimension, after which the entry counts zero, no cell is
// negative, and every released entry has its count. Cells are named by their values.
type Move struct {
	Entry []Key
	Steps []Step
}

// Step moves Persons persons from the cell with values From to the cell with values To.
type Step struct {
	From, To []string
	Persons  int64
}

// entryIndex finds an entry of one Protect call by its coordinates: a dense array over
// every combination of nodes when there are at most maxDense of them (host country by
// return country by sex, regions included, takes about 300,000), else the open-addressing
// table of packed keys. The box search looks up every corner of every candidate box and
// every entry a move changes: this is its hot path.
type entryIndex struct {
	stride [MaxCoverDimensions]int64
	dense  []int32 // entry + 1, 0 for none
	sparse hashIndex
}

func newEntryIndex(dims []*nodes, hint int, limit int64) entryIndex {
	var x entryIndex
	size := int64(1)
	for j, n := range dims {
		x.stride[j] = size
		size *= int64(len(n.names))
		if size > limit {
			x.sparse = newHashIndex(hint)
			return x
		}
	}
	x.dense = make([]int32, size)
	return x
}

func (x *entryIndex) get(c coords) (int32, bool) {
	if x.dense != nil {
		v := x.dense[int64(c[0])*x.stride[0]+int64(c[1])*x.stride[1]+int64(c[2])*x.stride[2]]
		return v - 1, v != 0
	}
	return x.sparse.get(pack3(c))
}

func (x *entryIndex) set(c coords, e int32) {
	if x.dense != nil {
		x.dense[int64(c[0])*x.stride[0]+int64(c[1])*x.stride[1]+int64(c[2])*x.stride[2]] = e + 1
		return
	}
	x.sparse.set(pack3(c), e)
}

// Flags of an entry of a Protect call.
const (
	flagHidden uint8 = 1 << iota
	flagSmall
	// flagKept marks an entry of the release: one with persons, or named by also. Entries a
	// candidate move would change are made on the way (most count zero); those not withheld
	// in the end are left out of the release.
	flagKept
)

// protector is the state of one Protect call.
type protector struct {
	k     int64
	d     int
	dims  []*nodes
	cells []fineCell
	// The entries, by index: packed coordinates, count, flags; index finds them.
	keys   []uint64
	counts []int64
	flags  []uint8
	index  entryIndex
	// above[i*nAbove:][:nAbove] are the entries above fine cell i (eachAbove's order).
	above  []int32
	nAbove int
	// depth[j] is the ancestors of a value of dimension j (itself included), and
	// aboveNode[j][t] which of them the t-th entry above a cell has in dimension j.
	depth     [MaxCoverDimensions]int
	aboveNode [MaxCoverDimensions][]int
	// under[underAt[e]:underAt[e+1]] are the fine cells under entry e (of those made from
	// the cover's cells), the largest first, in cell order among equals.
	underAt []int32
	under   []int32
	moves   []Move

	// Buffers of bestMove and apply, reused from one small entry to the next.
	boxes                []box
	delta                []int64 // by entry, zero between moves
	touched, own         []int32
	steps, bestSteps     []rawStep
	changed, bestChanged []int32
	aboveBuf             []coords
	// lineSets[j] are the lines along dimension j; extra[extraOf[j][l]-1] the withheld
	// entries that count nobody on the line along j whose own entry is l (see line). The
	// rest: buffers of siblings.
	lineSets                   [MaxCoverDimensions]lineSet
	extraOf                    [MaxCoverDimensions][]int32
	extra                      [][]lineMember
	sibHN, sibHF, sibUN, sibUF []int32
	sibOut                     []int32
	opts                       [MaxCoverDimensions][]int32
	at                         corners
	order                      []uint64
}

type fineCell struct {
	v     coords // value node per dimension (0 beyond d)
	count int64
}

// rawStep is a Step by coordinates, named only for the move kept.
type rawStep struct {
	from, to coords
	persons  int64
}

// Protect releases every entry of c with the small ones withheld and enough others that no
// small count can be told from a release in which it is zero. For each entry counting 1 to
// k-1 it finds a move (a box of the hypercube method, made of whole persons): persons of
// the entry, and as many of each entry on the even corners of a box around it, change their
// value in one dimension to the box's other corner; every entry whose count that changes is
// withheld. The database so changed agrees with every released number and has the small
// entry empty, so nothing released, alone or combined, rules zero out. Each move is kept as
// a certificate (Certificates) that a test can replay.
//
// also lists entries (by keys) to withhold besides: those a previous release of the same
// population withheld, so that a pattern only grows while the population changes.
func Protect(c Cover, k int64, also [][]Key) (*Release, error) {
	return protectCover(c, k, also, maxDense)
}

// protectCover is Protect with the entries found through a dense array only when the
// combinations of nodes number at most denseLimit (tests take the hash table with 0).
func protectCover(c Cover, k int64, also [][]Key, denseLimit int64) (*Release, error) {
	if k < 2 {
		return nil, fmt.Errorf("%w (got %d)", ErrThreshold, k)
	}
	p, err := newProtector(c, k, denseLimit)
	if err != nil {
		return nil, err
	}
	for _, keys := range also {
		if co, ok := p.coordsOf(keys); ok {
			e := p.entry(co)
			p.flags[e] |= flagKept
			p.hide(e)
		}
	}
	withheldAll := p.protect()
	var kept []int32
	for e, f := range p.flags {
		if f&(flagKept|flagHidden) != 0 {
			kept = append(kept, int32(e))
		}
	}
	slices.SortFunc(kept, func(a, b int32) int { return cmp.Compare(p.keys[a], p.keys[b]) })
	r := &Release{k: k, dims: p.dims, moves: p.moves, withheldAll: withheldAll,
		keys: make([]uint64, len(kept)), counts: make([]int64, len(kept)), hidden: make([]bool, len(kept)),
		bySignature: map[signature][]int32{}}
	for i, e := range kept {
		r.keys[i], r.counts[i] = p.keys[e], p.counts[e]
		r.hidden[i] = withheldAll || p.flags[e]&flagHidden != 0
		s := p.signatureOf(unpack3(p.keys[e]))
		r.bySignature[s] = append(r.bySignature[s], int32(i))
	}
	return r, nil
}

func newProtector(c Cover, k int64, denseLimit int64) (*protector, error) {
	d := len(c.Dimensions)
	if d < 1 || d > MaxCoverDimensions {
		return nil, fmt.Errorf("%w (got %d)", ErrCover, d)
	}
	p := &protector{k: k, d: d}
	for _, dim := range c.Dimensions {
		if dim.MultiValued && (d > 1 || dim.GroupOf != nil) {
			return nil, ErrCover
		}
		p.dims = append(p.dims, newNodes(dim.MultiValued))
	}
	var sum int64
	for i, cell := range c.Cells {
		if len(cell.Keys) != d {
			return nil, fmt.Errorf("%w: cell %d has %d keys for %d dimensions", ErrKeys, i, len(cell.Keys), d)
		}
		if cell.Count < 0 {
			return nil, fmt.Errorf("%w: cell %d", ErrCount, i)
		}
		var f fineCell
		f.count = cell.Count
		for j, v := range cell.Keys {
			if v == "" {
				return nil, fmt.Errorf("%w: cell %d has a total's key", ErrKeys, i)
			}
			parent := int32(0)
			if g := c.Dimensions[j].GroupOf; g != nil {
				name, ok := g(v)
				if !ok || name == "" {
					return nil, fmt.Errorf("%w: cell %d", ErrGroup, i)
				}
				parent = p.dims[j].add(Key{Value: name, Group: true}, 0)
			}
			f.v[j] = p.dims[j].add(Key{Value: v}, parent)
		}
		if cell.Count == 0 {
			continue
		}
		sum += cell.Count
		p.cells = append(p.cells, f)
	}
	persons := sum
	if d == 1 && p.dims[0].multi {
		persons = c.Persons
	} else if c.Persons != 0 && c.Persons != sum {
		return nil, fmt.Errorf("%w: %d persons, cells add up to %d", ErrCoverTotal, c.Persons, sum)
	}
	p.index = newEntryIndex(p.dims, 4*len(p.cells), denseLimit)
	for j := range MaxCoverDimensions {
		p.depth[j] = 1
	}
	for _, f := range p.cells {
		p.aboveBuf = p.eachAbove(f.v, p.aboveBuf[:0])
		// The same for every cell: a grouped dimension's values are all under a group.
		p.nAbove = len(p.aboveBuf)
		for j := range p.d {
			var up [3]int32
			p.depth[j] = p.dims[j].ancestors(f.v[j], &up)
		}
		for _, x := range p.aboveBuf {
			e := p.entry(x)
			p.flags[e] |= flagKept
			if !(p.dims[0].multi && x[0] == 0) {
				p.counts[e] += f.count
			}
			p.above = append(p.above, e)
		}
	}
	if d == 1 && p.dims[0].multi {
		e := p.entry(coords{})
		p.flags[e] |= flagKept
		p.counts[e] = persons
	}
	stride := 1
	for j := MaxCoverDimensions - 1; j >= 0; j-- {
		p.aboveNode[j] = make([]int, p.nAbove)
		for t := range p.nAbove {
			p.aboveNode[j][t] = t / stride % p.depth[j]
		}
		stride *= p.depth[j]
	}
	p.listUnder()
	for _, n := range p.dims {
		n.number()
	}
	p.listLines()
	for j, n := range p.dims {
		for id := range n.names {
			n.count[id] = p.count(axis(j, int32(id)))
		}
		for id := range n.names {
			best := int32(-1)
			for _, ch := range n.children[id] {
				if n.levels[ch] != LevelValue {
					continue
				}
				if best < 0 || n.count[ch] > n.count[best] {
					best = ch
				}
			}
			n.delegate[id] = best
		}
	}
	return p, nil
}

// listUnder lists under each entry the fine cells under it, the largest first (the order
// in which a move takes persons from them).
func (p *protector) listUnder() {
	n := len(p.keys)
	p.underAt = make([]int32, n+1)
	for _, e := range p.above {
		p.underAt[e+1]++
	}
	for e := range n {
		p.underAt[e+1] += p.underAt[e]
	}
	order := make([]int32, len(p.cells))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(x, y int32) int { return cmp.Compare(p.cells[y].count, p.cells[x].count) })
	next := slices.Clone(p.underAt[:n])
	p.under = make([]int32, len(p.above))
	for _, ci := range order {
		for _, e := range p.above[int(ci)*p.nAbove:][:p.nAbove] {
			p.under[next[e]] = ci
			next[e]++
		}
	}
}

// cellsUnder is the fine cells under entry e, the largest first.
func (p *protector) cellsUnder(e int32) []int32 {
	if int(e) >= len(p.underAt)-1 {
		return nil // made by a move: nobody is there
	}
	return p.under[p.underAt[e]:p.underAt[e+1]]
}

// axis is the coordinates of node id of dimension j, all in every other.
func axis(j int, id int32) coords {
	var c coords
	c[j] = id
	return c
}

// eachAbove appends to out every entry above the fine coordinates v: each combination of
// their nodes' ancestors.
func (p *protector) eachAbove(v coords, out []coords) []coords {
	var up [MaxCoverDimensions][3]int32
	var n [MaxCoverDimensions]int
	for j := range MaxCoverDimensions {
		if j < p.d {
			n[j] = p.dims[j].ancestors(v[j], &up[j])
		} else {
			n[j] = 1 // up[j][0] is all
		}
	}
	for _, a := range up[0][:n[0]] {
		for _, b := range up[1][:n[1]] {
			for _, c := range up[2][:n[2]] {
				out = append(out, coords{a, b, c})
			}
		}
	}
	return out
}

// entry returns the index of the entry at c, made (empty) if there is none.
func (p *protector) entry(c coords) int32 {
	if e, ok := p.index.get(c); ok {
		return e
	}
	e := int32(len(p.keys))
	p.keys = append(p.keys, pack3(c))
	p.counts = append(p.counts, 0)
	p.flags = append(p.flags, 0)
	p.delta = append(p.delta, 0)
	p.index.set(c, e)
	return e
}

func (p *protector) count(c coords) int64 {
	if e, ok := p.index.get(c); ok {
		return p.counts[e]
	}
	return 0
}

func (p *protector) signatureOf(c coords) signature {
	var s signature
	for j := range p.d {
		s[j] = p.dims[j].levels[c[j]]
	}
	return s
}

func (p *protector) coordsOf(keys []Key) (coords, bool) {
	var c coords
	if len(keys) != p.d {
		return c, false
	}
	for j, k := range keys {
		if k.Value == "" {
			continue
		}
		id, ok := p.dims[j].ids[k]
		if !ok {
			return c, false
		}
		c[j] = id
	}
	return c, true
}

func (p *protector) keysOf(c coords) []Key {
	out := make([]Key, p.d)
	for j := range p.d {
		n := p.dims[j]
		out[j] = Key{Value: n.names[c[j]], Group: n.levels[c[j]] == LevelGroup}
	}
	return out
}

// protect withholds every small entry and, for each, the entries its move changes. It
// reports whether the whole population must be withheld (it is itself small: no move can
// take persons out of it).
func (p *protector) protect() bool {
	var small []int32
	for e, n := range p.counts {
		if n > 0 && n < p.k {
			p.flags[e] |= flagSmall | flagHidden
			small = append(small, int32(e))
		}
	}
	if e, ok := p.index.get(coords{}); ok && p.flags[e]&flagSmall != 0 {
		return true
	}
	// The finest entries first (they are the most, and their moves' corners are the
	// coarser entries' corners too), the smallest first among equals.
	depth := func(c coords) int {
		n := 0
		for j := range p.d {
			n += int(p.dims[j].levels[c[j]])
		}
		return n
	}
	slices.SortFunc(small, func(a, b int32) int {
		ca, cb := unpack3(p.keys[a]), unpack3(p.keys[b])
		return cmp.Or(cmp.Compare(depth(cb), depth(ca)),
			cmp.Compare(p.counts[a], p.counts[b]), cmp.Compare(p.keys[a], p.keys[b]))
	})
	for _, e := range small {
		c := unpack3(p.keys[e])
		if !p.bestMove(c) {
			return true
		}
		for _, ch := range p.bestChanged {
			p.hide(ch)
		}
		m := Move{Entry: p.keysOf(c), Steps: make([]Step, len(p.bestSteps))}
		for i, s := range p.bestSteps {
			m.Steps[i] = Step{From: p.valuesOf(s.from), To: p.valuesOf(s.to), Persons: s.persons}
		}
		p.moves = append(p.moves, m)
	}
	return false
}

// box is a candidate move: the dimensions varied (mask), the other corner's node in each,
// and the dimension persons move along.
type box struct {
	mask    int
	partner coords
	along   int
	guess   int64
}

// siblingsPerDimension bounds the other corners tried per dimension.
const siblingsPerDimension = 4

// exactTries bounds the boxes whose exact cost is computed per small entry.
const exactTries = 6

// bestMove finds the cheapest move that empties the entry at c (cost is the persons in
// entries newly withheld, plus one per entry), leaving its steps in bestSteps and the
// entries it changes in bestChanged; false when there is none.
func (p *protector) bestMove(c coords) bool {
	count := p.count(c)
	// The nodes a corner takes in each dimension: 0 the entry's, then its partners (none in
	// a dimension the entry totals over); each corner's count and withheld flag are looked
	// up once, by choice per dimension.
	var opts [MaxCoverDimensions][]int32
	for j := range MaxCoverDimensions {
		opts[j] = append(p.opts[j][:0], c[j])
		if j < p.d && c[j] != 0 {
			opts[j] = append(opts[j], p.siblings(c, j)...)
		}
		p.opts[j] = opts[j]
	}
	// Each box (mask and partners) once, with its guess, in the order of generation.
	p.at.clear()
	p.boxes, p.order = p.boxes[:0], p.order[:0]
	// Boxes that vary every dimension the entry names come first (the hypercube method's
	// boxes): a person who leaves a row of the box comes back in another column, so every
	// total over one of those dimensions stays as it is and no margin is withheld for them.
	// Smaller boxes move persons from one margin to another and withhold both; they are
	// tried only when no full box is feasible. (Tried together, the cheapest move by persons
	// often went through a margin, and once one margin was withheld every later move went
	// through it: most host-country and region totals ended up withheld.)
	full := 0
	for j := range p.d {
		if c[j] != 0 {
			full |= 1 << j
		}
	}
	for pass := range 2 {
		p.addBoxes(c, count, opts, full, pass == 0)
		if len(p.boxes) > 0 {
			break
		}
	}
	if len(p.boxes) == 0 {
		return false
	}
	slices.Sort(p.order)
	var bestCost int64 = -1
	// Every box is a different move (partners are distinct nodes), one per dimension it
	// varies (the one persons move along): the first exactTries*MaxCoverDimensions moves,
	// by guess, are worked out exactly. A box's guess is a lower bound of its cost (every
	// corner changes: the even ones give count persons, each to the odd corner next to it
	// along the move), so once the guesses reach the best cost no move after can be
	// cheaper.
	i := 0
	for _, o := range p.order {
		b := p.boxes[o&(1<<12-1)]
		bound := int64(-1)
		for y := range p.d {
			if b.mask&(1<<y) == 0 {
				continue
			}
			if bestCost >= 0 && (i >= exactTries*MaxCoverDimensions || b.guess >= bestCost) {
				return true
			}
			i++
			if bestCost >= 0 {
				if bound < 0 {
					bound = p.bound(c, b, bestCost)
				}
				if bound >= bestCost {
					continue // no cheaper
				}
			}
			b.along = y
			cost := p.apply(c, b, count)
			if bestCost < 0 || cost < bestCost {
				bestCost = cost
				p.steps, p.bestSteps = p.bestSteps, p.steps
				p.changed, p.bestChanged = p.bestChanged, p.changed
				if cost == 0 {
					return true
				}
			}
		}
	}
	return true
}

// addBoxes adds to p.boxes (and p.order) the feasible boxes around the entry at c, which
// counts count, with their guesses: those of mask full only, or with onlyFull false those of
// every other mask. A box is feasible when its even corners but the entry (with d <= 3:
// those of two partners) hold enough persons; a pair that does not rules out every box
// around it.
func (p *protector) addBoxes(c coords, count int64, opts [MaxCoverDimensions][]int32, full int, onlyFull bool) {
	for mask := 1; mask < 1<<p.d; mask++ {
		if (mask == full) != onlyFull {
			continue
		}
		var lo, hi [MaxCoverDimensions]int // choices per dimension: the partners if varied
		ok := true
		for j := range MaxCoverDimensions {
			lo[j], hi[j] = 0, 1
			if mask&(1<<j) != 0 {
				lo[j], hi[j] = 1, len(opts[j])
				ok = ok && hi[j] > 1
			}
		}
		if !ok {
			continue
		}
		m01, m02, m12 := mask&3 == 3, mask&5 == 5, mask&6 == 6
		for i0 := lo[0]; i0 < hi[0]; i0++ {
			for i1 := lo[1]; i1 < hi[1]; i1++ {
				if m01 && p.corner(i0, i1, 0).count < count {
					continue
				}
				for i2 := lo[2]; i2 < hi[2]; i2++ {
					if m02 && p.corner(i0, 0, i2).count < count || m12 && p.corner(0, i1, i2).count < count {
						continue
					}
					var guess int64
					for sub := 0; sub < 1<<p.d; sub++ {
						if sub&^mask == 0 {
							guess += p.corner(i0*(sub&1), i1*(sub>>1&1), i2*(sub>>2&1)).weight
						}
					}
					var b coords
					for j, i := range [MaxCoverDimensions]int{i0, i1, i2} {
						if mask&(1<<j) != 0 {
							b[j] = opts[j][i]
						}
					}
					// Sorted below by guess, then order of generation (guesses count
					// persons: far below 2^51).
					p.order = append(p.order, uint64(min(guess, 1<<51))<<12|uint64(len(p.boxes)))
					p.boxes = append(p.boxes, box{mask: mask, partner: b, guess: guess})
				}
			}
		}
	}
}

// bound is a lower bound of the cost of every move of box b, closer than its guess when
// the box does not vary every dimension the entry c has a node in: every corner changes
// (see bestMove), and so does every entry above a corner in the dimensions the box does
// not vary (the persons a corner gives or takes keep their nodes there). It stops adding
// at limit.
func (p *protector) bound(c coords, b box, limit int64) int64 {
	var up [MaxCoverDimensions][3]int32
	var n [MaxCoverDimensions]int
	coarser := false
	for j := range MaxCoverDimensions {
		n[j], up[j][0] = 1, c[j]
		if j < p.d && b.mask&(1<<j) == 0 && c[j] != 0 {
			n[j] = p.dims[j].ancestors(c[j], &up[j])
			coarser = true
		}
	}
	if !coarser {
		return b.guess
	}
	var cost int64
	for sub := 0; sub < 1<<p.d; sub++ {
		if sub&^b.mask != 0 {
			continue
		}
		x := corner(c, b.partner, sub)
		for _, a0 := range up[0][:n[0]] {
			for _, a1 := range up[1][:n[1]] {
				for _, a2 := range up[2][:n[2]] {
					y := x
					for j, a := range [MaxCoverDimensions]int32{a0, a1, a2} {
						if n[j] > 1 {
							y[j] = a
						}
					}
					e, ok := p.index.get(y)
					switch {
					case !ok:
						cost++
					case p.flags[e]&flagHidden == 0:
						cost += p.counts[e] + 1
					}
					if cost >= limit {
						return cost
					}
				}
			}
		}
	}
	return cost
}

// corners holds, for one small entry, the count and the weight in a guess (count + 1, or 0
// when withheld) of the corners of the boxes around it, by choice per dimension (see
// corner), each looked up on first use.
type corners struct {
	known [cornerChoices * cornerChoices * cornerChoices]bool
	at    [cornerChoices * cornerChoices * cornerChoices]cornerEntry
}

type cornerEntry struct {
	count, weight int64
}

// cornerChoices is the entry's node and its partners, per dimension.
const cornerChoices = 1 + siblingsPerDimension

func (at *corners) clear() { at.known = [len(at.known)]bool{} }

// corner is the corner with choice i0, i1, i2 in each dimension: 0 the entry's node, or
// that partner in p.opts.
func (p *protector) corner(i0, i1, i2 int) cornerEntry {
	k := (i0*cornerChoices+i1)*cornerChoices + i2
	if !p.at.known[k] {
		p.at.known[k] = true
		x := coords{p.opts[0][i0], p.opts[1][i1], p.opts[2][i2]}
		p.at.at[k] = cornerEntry{weight: 1}
		if e, ok := p.index.get(x); ok {
			p.at.at[k].count = p.counts[e]
			if p.flags[e]&flagHidden == 0 {
				p.at.at[k].weight = p.counts[e] + 1
			} else {
				p.at.at[k].weight = 0
			}
		}
	}
	return p.at.at[k]
}

// siblings lists the other corners tried in dimension j: nodes of the same level, those
// under the same group first, already withheld line neighbours first, then the smallest
// line neighbours and the largest ones (the largest give the box's even corners room).
//
// In full, the candidates are ordered withheld before not, then near (under the same
// group) before far (values of other groups), then by their count on the line, then by
// position (sibling order, groups in order); siblings takes the first two, then the
// largest near ones (all of them when none is near) down to siblingsPerDimension. It
// does not sort every node of the dimension for that: the line's entries that count
// someone or are withheld are listed once, in order of count (line), and the others, the
// empty siblings, all tie at zero and come in sibling order, so they are walked, as far
// as needed, among the children of each group.
func (p *protector) siblings(c coords, j int) []int32 {
	n := p.dims[j]
	self := c[j]
	lvl, par := n.levels[self], n.parent[self]
	// Values of other groups too: a move into another group changes both groups' entries.
	far := lvl == LevelValue && par != 0
	hn, hf, un, uf := p.sibHN[:0], p.sibHF[:0], p.sibUN[:0], p.sibUF[:0]
	empty, members := p.line(c, j)
	for i := range len(empty) + len(members) {
		var m lineMember
		if i < len(empty) {
			m = empty[i]
		} else {
			m = members[i-len(empty)]
		}
		s := m.node
		if s == self || n.levels[s] != lvl {
			continue
		}
		near := n.parent[s] == par
		if !near && !far {
			continue
		}
		switch hidden := p.flags[m.entry]&flagHidden != 0; {
		case hidden && near:
			hn = append(hn, s)
		case hidden:
			hf = append(hf, s)
		case near:
			un = append(un, s)
		default:
			uf = append(uf, s)
		}
	}
	p.sibHN, p.sibHF, p.sibUN, p.sibUF = hn, hf, un, uf
	out := p.sibOut[:0]
	take := func(s int32) {
		if len(out) < siblingsPerDimension && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	zeroNear := func(reverse bool, fn func(int32) bool) bool { return p.eachEmpty(c, j, par, reverse, fn) }
	zeroFar := func(reverse bool, fn func(int32) bool) bool {
		if !far {
			return true
		}
		groups := n.children[0]
		for i := range groups {
			g := groups[i]
			if reverse {
				g = groups[len(groups)-1-i]
			}
			if g != par && !p.eachEmpty(c, j, g, reverse, fn) {
				return false
			}
		}
		return true
	}
	// The first two in order (withheld, near, small).
	first := 0
	head := func(s int32) bool {
		take(s)
		first++
		return first < 2
	}
	_ = each(hn, false, head) && each(hf, false, head) && zeroNear(false, head) && each(un, false, head) &&
		zeroFar(false, head) && each(uf, false, head)
	// Then the largest near ones, from the end of the order.
	tail := func(s int32) bool {
		take(s)
		return len(out) < siblingsPerDimension
	}
	anyNear := len(hn) > 0 || len(un) > 0 || !zeroNear(false, func(int32) bool { return false })
	if anyNear {
		_ = each(un, true, tail) && zeroNear(true, tail) && each(hn, true, tail)
	} else {
		_ = each(uf, true, tail) && zeroFar(true, tail) && each(hf, true, tail)
	}
	p.sibOut = out
	return out // a buffer: bestMove copies it
}

// each calls fn with the nodes of list, in order or from the end, while fn returns true;
// it reports whether fn always did.
func each(list []int32, reverse bool, fn func(int32) bool) bool {
	for i := range list {
		s := list[i]
		if reverse {
			s = list[len(list)-1-i]
		}
		if !fn(s) {
			return false
		}
	}
	return true
}

// eachEmpty calls fn, while it returns true, with every child of parent at the level of
// c[j] (but c[j]) whose entry on c's line along j counts nobody and is not withheld, in
// sibling order or from the end; it reports whether fn always returned true.
func (p *protector) eachEmpty(c coords, j int, parent int32, reverse bool, fn func(int32) bool) bool {
	n := p.dims[j]
	self := c[j]
	children := n.children[parent]
	for i := range children {
		s := children[i]
		if reverse {
			s = children[len(children)-1-i]
		}
		if s == self || n.levels[s] != n.levels[self] {
			continue
		}
		x := c
		x[j] = s
		if e, ok := p.index.get(x); ok && (p.counts[e] != 0 || p.flags[e]&flagHidden != 0) {
			continue
		}
		if !fn(s) {
			return false
		}
	}
	return true
}

// lineMember is an entry of a line that counts someone or is withheld: its index and its
// node in the line's dimension.
type lineMember struct {
	entry, node int32
}

// lineSet holds the lines along one dimension: the entries on each that count someone,
// those of one level together (a slot: twice the line's own entry, the one with all in
// the dimension, plus one for values), sorted by count then position on first use.
type lineSet struct {
	start  []int32 // by slot: members[start[s]:start[s+1]]
	member []lineMember
	sorted []bool
}

// listLines makes the lines of every dimension from the entries that count someone.
func (p *protector) listLines() {
	n := len(p.keys)
	for j := range p.d {
		ls := &p.lineSets[j]
		ls.start = make([]int32, 2*n+1)
		ls.sorted = make([]bool, 2*n)
		slot := func(e int32) (int32, bool) {
			c := unpack3(p.keys[e])
			if c[j] == 0 || p.counts[e] == 0 {
				return 0, false
			}
			c[j] = 0
			l, _ := p.index.get(c) // above the same cells
			s := 2 * l
			if p.dims[j].levels[unpack3(p.keys[e])[j]] == LevelValue {
				s++
			}
			return s, true
		}
		for e := range int32(n) {
			if s, ok := slot(e); ok {
				ls.start[s+1]++
			}
		}
		for s := range 2 * n {
			ls.start[s+1] += ls.start[s]
		}
		next := slices.Clone(ls.start[:2*n])
		ls.member = make([]lineMember, ls.start[2*n])
		for e := range int32(n) {
			if s, ok := slot(e); ok {
				ls.member[next[s]] = lineMember{entry: e, node: unpack3(p.keys[e])[j]}
				next[s]++
			}
		}
	}
}

// line returns the entries on c's line along j at c[j]'s level that count someone or are
// withheld, in order: the withheld ones that count nobody by position, then the others by
// count then position.
func (p *protector) line(c coords, j int) (empty, members []lineMember) {
	x := c
	x[j] = 0
	l, ok := p.index.get(x)
	if !ok {
		return nil, nil // no line: nobody is on it, nothing withheld
	}
	if int(l) < len(p.extraOf[j]) && p.extraOf[j][l] > 0 {
		empty = p.extra[p.extraOf[j][l]-1]
	}
	if int(l) >= len(p.lineSets[j].sorted)/2 {
		return empty, nil // a line made by a move: nobody is on it
	}
	s := 2 * l
	if p.dims[j].levels[c[j]] == LevelValue {
		s++
	}
	ls := &p.lineSets[j]
	members = ls.member[ls.start[s]:ls.start[s+1]]
	if !ls.sorted[s] {
		pos := p.dims[j].pos
		slices.SortFunc(members, func(a, b lineMember) int {
			return cmp.Or(cmp.Compare(p.counts[a.entry], p.counts[b.entry]), cmp.Compare(pos[a.node], pos[b.node]))
		})
		ls.sorted[s] = true
	}
	return empty, members
}

// hide withholds entry e. An entry that counts nobody joins the lines through it (p.extra).
func (p *protector) hide(e int32) {
	if p.flags[e]&flagHidden != 0 {
		return
	}
	p.flags[e] |= flagHidden
	if p.counts[e] != 0 {
		return
	}
	c := unpack3(p.keys[e])
	for j := range p.d {
		if c[j] == 0 {
			continue
		}
		x := c
		x[j] = 0
		l := p.entry(x) // made if need be: a line's entry names it
		for int(l) >= len(p.extraOf[j]) {
			p.extraOf[j] = append(p.extraOf[j], 0)
		}
		if p.extraOf[j][l] == 0 {
			p.extra = append(p.extra, nil)
			p.extraOf[j][l] = int32(len(p.extra))
		}
		list := &p.extra[p.extraOf[j][l]-1]
		m := lineMember{entry: e, node: c[j]}
		pos := p.dims[j].pos
		at, _ := slices.BinarySearchFunc(*list, m, func(a, b lineMember) int { return cmp.Compare(pos[a.node], pos[b.node]) })
		*list = slices.Insert(*list, at, m)
	}
}

// corner is the box's corner for the subset sub of its dimensions (those taking the
// partner's node).
func corner(c coords, b coords, sub int) coords {
	out := c
	for j := range MaxCoverDimensions {
		if sub&(1<<j) != 0 {
			out[j] = b[j]
		}
	}
	return out
}

func evenBits(x int) bool {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n%2 == 0
}

// apply works out box b's move exactly: which persons go where (into steps), and every
// entry whose count that changes (into changed). The cost is the persons in changed
// entries not yet withheld, plus one per such entry.
func (p *protector) apply(c coords, b box, count int64) int64 {
	p.steps, p.touched = p.steps[:0], p.touched[:0]
	add := func(e int32, n int64) {
		if p.delta[e] == 0 {
			p.touched = append(p.touched, e)
		}
		p.delta[e] += n
	}
	for sub := 0; sub < 1<<p.d; sub++ {
		if sub&^b.mask != 0 || !evenBits(sub) {
			continue
		}
		from := corner(c, b.partner, sub)
		to := from
		if sub&(1<<b.along) != 0 {
			to[b.along] = c[b.along]
		} else {
			to[b.along] = b.partner[b.along]
		}
		need := count
		var cells []int32
		if e, ok := p.index.get(from); ok {
			cells = p.cellsUnder(e)
		}
		if sub == 0 {
			// The entry's own cells, every one moved (fewer than k), in cell order.
			p.own = append(p.own[:0], cells...)
			slices.Sort(p.own)
			cells = p.own
		}
		for _, ci := range cells {
			if need == 0 {
				break
			}
			f := p.cells[ci]
			m := min(f.count, need)
			need -= m
			dest := f.v
			dest[b.along] = p.valueUnder(b.along, to[b.along], f.v[b.along])
			// The entries above the cell lose m persons, those above dest gain them: all
			// but those whose node in dimension along is above both (the common group, all).
			y := b.along
			var from, into [3]int32
			k := p.dims[y].ancestors(f.v[y], &from)
			p.dims[y].ancestors(dest[y], &into)
			for k > 0 && from[k-1] == into[k-1] {
				k--
			}
			for t, e := range p.above[int(ci)*p.nAbove:][:p.nAbove] {
				if i := p.aboveNode[y][t]; i < k {
					add(e, -m)
					x := unpack3(p.keys[e])
					x[y] = into[i]
					add(p.entry(x), m)
				}
			}
			p.steps = append(p.steps, rawStep{from: f.v, to: dest, persons: m})
		}
	}
	p.changed = p.changed[:0]
	var cost int64
	for _, e := range p.touched {
		if p.delta[e] == 0 {
			continue // back to zero, or listed twice
		}
		p.delta[e] = 0
		p.changed = append(p.changed, e)
		if p.flags[e]&flagHidden == 0 {
			cost += p.counts[e] + 1
		}
	}
	return cost
}

// valueUnder is the value a person whose value is from takes when moved to node: node
// itself when it is a value; else, for a group, the person's own value when it is in that
// group already, or the group's delegate (its largest value).
func (p *protector) valueUnder(j int, node, from int32) int32 {
	n := p.dims[j]
	if n.levels[node] == LevelValue {
		return node
	}
	for a := from; a >= 0; a = n.parent[a] {
		if a == node {
			return from
		}
	}
	if d := n.delegate[node]; d >= 0 {
		return d
	}
	return node
}

func (p *protector) valuesOf(v coords) []string {
	out := make([]string, p.d)
	for j := range p.d {
		out[j] = p.dims[j].names[v[j]]
	}
	return out
}

// K is the threshold the release was protected at.
func (r *Release) K() int64 { return r.k }

// WithheldAll reports whether the whole population is withheld (it counts fewer than k).
func (r *Release) WithheldAll() bool { return r.withheldAll }

// Lookup returns the entry named by keys (one per dimension): its count and whether it is
// withheld (count 0 then). An entry the release does not hold counts zero and is released:
// nobody is there.
func (r *Release) Lookup(keys []Key) (count int64, withheld bool) {
	c, ok := r.coordsOf(keys)
	if !ok {
		return 0, r.withheldAll
	}
	i, ok := slices.BinarySearch(r.keys, pack3(c))
	switch {
	case !ok:
		return 0, r.withheldAll
	case r.hidden[i]:
		return 0, true
	default:
		return r.counts[i], false
	}
}

func (r *Release) coordsOf(keys []Key) (coords, bool) {
	var c coords
	if len(keys) != len(r.dims) {
		return c, false
	}
	for j, k := range keys {
		if k.Value == "" {
			continue
		}
		id, ok := r.dims[j].ids[k]
		if !ok {
			return c, false
		}
		c[j] = id
	}
	return c, true
}

// keysOf names the entry at c.
func (r *Release) keysOf(c coords) []Key {
	keys := make([]Key, len(r.dims))
	for j, n := range r.dims {
		keys[j] = Key{Value: n.names[c[j]], Group: n.levels[c[j]] == LevelGroup}
	}
	return keys
}

// Entries calls fn with every entry whose keys are at the given levels (one per dimension)
// and that counts someone or is withheld, in a stable order. Group reports the group of a
// key (a value's), for callers that sum values into groups.
func (r *Release) Entries(levels []Level, fn func(keys []Key, count int64, withheld bool)) {
	var s signature
	copy(s[:], levels)
	for _, i := range r.bySignature[s] {
		if r.counts[i] == 0 && !r.hidden[i] && !r.withheldAll {
			continue
		}
		keys := r.keysOf(unpack3(r.keys[i]))
		if r.hidden[i] || r.withheldAll {
			fn(keys, 0, true)
		} else {
			fn(keys, r.counts[i], false)
		}
	}
}

// Withheld lists the keys of every withheld entry, for the next release of the same
// population (Protect's also).
func (r *Release) Withheld() [][]Key {
	var out [][]Key
	for i, key := range r.keys {
		if r.hidden[i] {
			out = append(out, r.keysOf(unpack3(key)))
		}
	}
	return out
}

// Certificates returns the move of every small entry: the proof, replayable by a test,
// that the release is consistent with that entry being empty.
func (r *Release) Certificates() []Move { return r.moves }
