package disclosure

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// MaxCoverDimensions is the most dimensions one release covers. A release answers every
// table over any subset of its dimensions, so it is a "cover" of linked tables; three
// (host country, return country, sex) are the most HQ publishes together.
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
	ErrCover       = errors.New("disclosure: a cover has 1 to 3 dimensions, a multi-valued one alone")
	ErrGroup       = errors.New("disclosure: a value of a grouped dimension has no group")
	ErrCoverTotal  = errors.New("disclosure: the persons of a cover do not match its cells")
	errNoCandidate = errors.New("disclosure: no move protects an entry")
)

// Release is one protected release: every entry of a Cover (each combination of a node per
// dimension: a value, a group or all of it) with its count, released or withheld. Every
// number a caller publishes from the population must be an entry of its Release, or a sum
// of released entries: see the package documentation for why that, and only that, keeps
// every answer safe when answers are combined.
//
// A Release is immutable and safe for concurrent use.
type Release struct {
	k       int64
	dims    []*nodes
	entries map[uint64]*entry2
	// bySignature lists the entries by the level of each of their keys, for Entries.
	bySignature map[signature][]uint64
	// moves[i] is the certificate of the i-th small entry: persons moved so that it empties
	// with every released entry unchanged (see Certificates).
	moves []Move
	// withheldAll is set when the population itself is smaller than k: nothing is released.
	withheldAll bool
}

// entry2 is one entry of a release.
type entry2 struct {
	count  int64
	hidden bool
	small  bool
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

// ancestors lists id and the nodes above it, itself first.
func (n *nodes) ancestors(id int32) []int32 {
	out := []int32{id}
	for p := n.parent[id]; p >= 0; p = n.parent[p] {
		out = append(out, p)
	}
	return out
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

// protector is the state of one Protect call.
type protector struct {
	k     int64
	d     int
	dims  []*nodes
	cells []fineCell
	// entries by packed coordinates; under[e] lists the fine cells under entry e.
	entries map[uint64]*entry2
	under   map[uint64][]int32
	moves   []Move
}

type fineCell struct {
	v     coords // value node per dimension (0 beyond d)
	count int64
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
	if k < 2 {
		return nil, fmt.Errorf("%w (got %d)", ErrThreshold, k)
	}
	p, err := newProtector(c, k)
	if err != nil {
		return nil, err
	}
	for _, keys := range also {
		if co, ok := p.coordsOf(keys); ok {
			p.entry(co).hidden = true
		}
	}
	withheldAll := p.protect()
	r := &Release{k: k, dims: p.dims, entries: p.entries, moves: p.moves, withheldAll: withheldAll,
		bySignature: map[signature][]uint64{}}
	for key, e := range p.entries {
		if withheldAll {
			e.hidden = true
		}
		s := p.signatureOf(unpack3(key))
		r.bySignature[s] = append(r.bySignature[s], key)
	}
	for _, keys := range r.bySignature {
		slices.Sort(keys)
	}
	return r, nil
}

func newProtector(c Cover, k int64) (*protector, error) {
	d := len(c.Dimensions)
	if d < 1 || d > MaxCoverDimensions {
		return nil, fmt.Errorf("%w (got %d)", ErrCover, d)
	}
	p := &protector{k: k, d: d, entries: map[uint64]*entry2{}, under: map[uint64][]int32{}}
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
	for i, f := range p.cells {
		p.addUnder(f.v, int32(i), f.count)
	}
	if d == 1 && p.dims[0].multi {
		p.entry(coords{}).count = persons
	}
	for j, n := range p.dims {
		for id := range n.names {
			e, ok := p.entries[pack3(axis(j, int32(id)))]
			if ok {
				n.count[id] = e.count
			}
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

// axis is the coordinates of node id of dimension j, all in every other.
func axis(j int, id int32) coords {
	var c coords
	c[j] = id
	return c
}

// addUnder counts a fine cell in every entry above it (each combination of its values'
// ancestors), and lists it under each.
func (p *protector) addUnder(v coords, cell int32, count int64) {
	p.eachAbove(v, func(c coords) {
		key := pack3(c)
		e := p.entry(c)
		if !(p.dims[0].multi && c[0] == 0) {
			e.count += count
		}
		p.under[key] = append(p.under[key], cell)
	})
}

// eachAbove calls fn with every entry above the fine coordinates v.
func (p *protector) eachAbove(v coords, fn func(coords)) {
	var up [MaxCoverDimensions][]int32
	for j := range MaxCoverDimensions {
		if j < p.d {
			up[j] = p.dims[j].ancestors(v[j])
		} else {
			up[j] = []int32{0}
		}
	}
	for _, a := range up[0] {
		for _, b := range up[1] {
			for _, c := range up[2] {
				fn(coords{a, b, c})
			}
		}
	}
}

func (p *protector) entry(c coords) *entry2 {
	key := pack3(c)
	e, ok := p.entries[key]
	if !ok {
		e = &entry2{}
		p.entries[key] = e
	}
	return e
}

func (p *protector) count(c coords) int64 {
	if e, ok := p.entries[pack3(c)]; ok {
		return e.count
	}
	return 0
}

func (p *protector) hidden(c coords) bool {
	e, ok := p.entries[pack3(c)]
	return ok && e.hidden
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
	var small []uint64
	for key, e := range p.entries {
		if e.count > 0 && e.count < p.k {
			e.small, e.hidden = true, true
			small = append(small, key)
		}
	}
	if e, ok := p.entries[pack3(coords{})]; ok && e.small {
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
	slices.SortFunc(small, func(a, b uint64) int {
		ca, cb := unpack3(a), unpack3(b)
		return cmp.Or(cmp.Compare(depth(cb), depth(ca)),
			cmp.Compare(p.entries[a].count, p.entries[b].count), cmp.Compare(a, b))
	})
	for _, key := range small {
		c := unpack3(key)
		m, changed, err := p.bestMove(c)
		if err != nil {
			return true
		}
		for _, ch := range changed {
			p.entry(ch).hidden = true
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

// bestMove finds the cheapest move that empties the entry at c: cost is the persons in
// entries newly withheld, plus one per entry.
func (p *protector) bestMove(c coords) (Move, []coords, error) {
	count := p.count(c)
	var varying []int
	for j := range p.d {
		if c[j] != 0 {
			varying = append(varying, j)
		}
	}
	partners := make([][]int32, p.d)
	for _, j := range varying {
		partners[j] = p.siblings(c, j)
	}
	var boxes []box
	for mask := 1; mask < 1<<p.d; mask++ {
		ok := true
		for j := range p.d {
			if mask&(1<<j) != 0 && (c[j] == 0 || len(partners[j]) == 0) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var dimsOf []int
		for j := range p.d {
			if mask&(1<<j) != 0 {
				dimsOf = append(dimsOf, j)
			}
		}
		var choose func(i int, b coords)
		choose = func(i int, b coords) {
			if i == len(dimsOf) {
				guess, feasible := p.guess(c, mask, b, count)
				if feasible {
					for _, y := range dimsOf {
						boxes = append(boxes, box{mask: mask, partner: b, along: y, guess: guess})
					}
				}
				return
			}
			j := dimsOf[i]
			for _, s := range partners[j] {
				b[j] = s
				choose(i+1, b)
			}
		}
		choose(0, coords{})
	}
	if len(boxes) == 0 {
		return Move{}, nil, errNoCandidate
	}
	slices.SortStableFunc(boxes, func(a, b box) int { return cmp.Compare(a.guess, b.guess) })
	var (
		best        Move
		bestChanged []coords
		bestCost    int64 = -1
	)
	tried := map[[2]uint64]bool{}
	for _, b := range boxes {
		id := [2]uint64{uint64(b.mask) | uint64(b.along)<<8, pack3(b.partner)}
		if tried[id] {
			continue
		}
		tried[id] = true
		if len(tried) > exactTries*MaxCoverDimensions && bestCost >= 0 {
			break
		}
		m, changed, cost := p.apply(c, b, count)
		if bestCost < 0 || cost < bestCost {
			best, bestChanged, bestCost = m, changed, cost
			if cost == 0 {
				break
			}
		}
	}
	return best, bestChanged, nil
}

// siblings lists the other corners tried in dimension j: nodes of the same level, those
// under the same group first, already withheld line neighbours first, then the smallest
// line neighbours and the largest ones (the largest give the box's even corners room).
func (p *protector) siblings(c coords, j int) []int32 {
	n := p.dims[j]
	self := c[j]
	type cand struct {
		id     int32
		near   bool // same group
		hidden bool
		count  int64
	}
	var cands []cand
	consider := func(parent int32) {
		for _, s := range n.children[parent] {
			if s == self || n.levels[s] != n.levels[self] {
				continue
			}
			nb := c
			nb[j] = s
			cands = append(cands, cand{id: s, near: parent == n.parent[self], hidden: p.hidden(nb), count: p.count(nb)})
		}
	}
	consider(n.parent[self])
	if n.levels[self] == LevelValue && n.parent[self] != 0 {
		// Values of other groups: a move into another group changes both groups' entries.
		for _, g := range n.children[0] {
			if g != n.parent[self] {
				consider(g)
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.hidden != b.hidden {
			if a.hidden {
				return -1
			}
			return 1
		}
		if a.near != b.near {
			if a.near {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.count, b.count)
	})
	var out []int32
	seen := map[int32]bool{}
	take := func(x cand) {
		if !seen[x.id] && len(out) < siblingsPerDimension {
			seen[x.id] = true
			out = append(out, x.id)
		}
	}
	// The first two in order (withheld, near, small), then the two largest near ones.
	for _, x := range cands[:min(2, len(cands))] {
		take(x)
	}
	var near []cand
	for _, x := range cands {
		if x.near {
			near = append(near, x)
		}
	}
	if len(near) == 0 {
		near = cands
	}
	for i := len(near) - 1; i >= 0 && len(out) < siblingsPerDimension; i-- {
		take(near[i])
	}
	return out
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

// guess checks that every even corner but the entry holds enough persons to give, and
// returns the persons of the corners not yet withheld (a first estimate of the cost).
func (p *protector) guess(c coords, mask int, b coords, need int64) (int64, bool) {
	var cost int64
	for sub := 0; sub < 1<<p.d; sub++ {
		if sub&^mask != 0 {
			continue
		}
		x := corner(c, b, sub)
		n := p.count(x)
		if sub != 0 && evenBits(sub) && n < need {
			return 0, false
		}
		if !p.hidden(x) {
			cost += n + 1
		}
	}
	return cost, true
}

func evenBits(x int) bool {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n%2 == 0
}

// apply works out box b's move exactly: which persons go where, and every entry whose
// count that changes. The cost is the persons in changed entries not yet withheld, plus
// one per such entry.
func (p *protector) apply(c coords, b box, count int64) (Move, []coords, int64) {
	delta := map[uint64]int64{}
	move := Move{Entry: p.keysOf(c)}
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
		cells := slices.Clone(p.under[pack3(from)])
		if sub != 0 {
			// Take from the largest cells first: fewest cells changed.
			slices.SortStableFunc(cells, func(x, y int32) int { return cmp.Compare(p.cells[y].count, p.cells[x].count) })
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
			p.eachAbove(f.v, func(x coords) { delta[pack3(x)] -= m })
			p.eachAbove(dest, func(x coords) { delta[pack3(x)] += m })
			move.Steps = append(move.Steps, Step{From: p.valuesOf(f.v), To: p.valuesOf(dest), Persons: m})
		}
	}
	var changed []coords
	var cost int64
	for _, key := range slices.Sorted(maps.Keys(delta)) {
		if delta[key] == 0 {
			continue
		}
		x := unpack3(key)
		changed = append(changed, x)
		if !p.hidden(x) {
			cost += p.count(x) + 1
		}
	}
	return move, changed, cost
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
	e, ok := r.entries[pack3(c)]
	switch {
	case !ok:
		return 0, r.withheldAll
	case e.hidden:
		return 0, true
	default:
		return e.count, false
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

// Entries calls fn with every entry whose keys are at the given levels (one per dimension)
// and that counts someone or is withheld, in a stable order. Group reports the group of a
// key (a value's), for callers that sum values into groups.
func (r *Release) Entries(levels []Level, fn func(keys []Key, count int64, withheld bool)) {
	var s signature
	copy(s[:], levels)
	for _, key := range r.bySignature[s] {
		e := r.entries[key]
		if e.count == 0 && !e.hidden && !r.withheldAll {
			continue
		}
		c := unpack3(key)
		keys := make([]Key, len(r.dims))
		for j, n := range r.dims {
			keys[j] = Key{Value: n.names[c[j]], Group: n.levels[c[j]] == LevelGroup}
		}
		if e.hidden || r.withheldAll {
			fn(keys, 0, true)
		} else {
			fn(keys, e.count, false)
		}
	}
}

// Withheld lists the keys of every withheld entry, for the next release of the same
// population (Protect's also).
func (r *Release) Withheld() [][]Key {
	var out [][]Key
	for _, key := range slices.Sorted(maps.Keys(r.entries)) {
		if !r.entries[key].hidden {
			continue
		}
		c := unpack3(key)
		keys := make([]Key, len(r.dims))
		for j, n := range r.dims {
			keys[j] = Key{Value: n.names[c[j]], Group: n.levels[c[j]] == LevelGroup}
		}
		out = append(out, keys)
	}
	return out
}

// Certificates returns the move of every small entry: the proof, replayable by a test,
// that the release is consistent with that entry being empty.
func (r *Release) Certificates() []Move { return r.moves }
