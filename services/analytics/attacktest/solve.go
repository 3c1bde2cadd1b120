package attacktest

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// System is what the answers together say: the atoms they show empty, and a feasible basis
// of the remaining equations with every count non-negative, ready for one linear program per
// question. It is not safe for concurrent use.
type System struct {
	atoms int
	// zero holds the atoms some answer shows empty (a count of 0 over atoms that are never
	// negative empties each of them).
	zero bitset
	// col maps an atom to its column in t, -1 for an atom no equation holds (whose count
	// nothing bounds from above).
	col []int
	t   *tableau
	// scratch is where one question's simplex pivots: t stays as built.
	scratch *tableau
	// listed are forms known to hold someone (see Attacker.listed).
	listed []bitset
	// Equations is the number of distinct released numbers; Rank the independent ones
	// among them once the empty atoms are removed.
	Equations, Rank int
}

// modulus is a prime near 2^61 for the independence test: rows independent modulo a prime
// are independent over the rationals. (The converse can fail, with a probability of the
// order of the matrix's size over the prime: a row so dropped only weakens the attack.)
const modulus = 1<<61 - 1

func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, r := bits.Div64(hi, lo, modulus)
	return r
}

func powmod(a, e uint64) uint64 {
	r := uint64(1)
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = mulmod(r, a)
		}
		a = mulmod(a, a)
	}
	return r
}

// System builds the linear system of everything observed. It fails with ErrInfeasible when
// no non-negative counts satisfy the answers.
func (a *Attacker) System() (*System, error) {
	n := a.dom.Atoms()
	s := &System{atoms: n, zero: newBitset(n), col: make([]int, n), Equations: len(a.eqs)}
	keys := make([]string, 0, len(a.eqs))
	for k, e := range a.eqs {
		keys = append(keys, k)
		if e.value == 0 {
			s.zero.or(e.form)
		}
	}
	slices.Sort(keys) // the same answers, the same basis
	type row struct {
		form  bitset
		value int64
	}
	var rows []row
	seen := map[string]int{}
	for _, k := range keys {
		e := a.eqs[k]
		if e.value == 0 {
			continue
		}
		f := e.form.clone()
		f.andNot(s.zero)
		if f.empty() {
			return nil, fmt.Errorf("%w: %s is %d over atoms other answers show empty", ErrInfeasible, e.what, e.value)
		}
		if i, ok := seen[f.key()]; ok {
			if rows[i].value != e.value {
				return nil, fmt.Errorf("%w: %s is %d, and %d by another answer", ErrInfeasible, e.what, e.value, rows[i].value)
			}
			continue
		}
		seen[f.key()] = len(rows)
		rows = append(rows, row{f, e.value})
	}
	// Columns: the atoms some equation holds.
	cols := 0
	held := newBitset(n)
	for _, r := range rows {
		held.or(r.form)
	}
	for i := range n {
		s.col[i] = -1
		if held.has(i) {
			s.col[i] = cols
			cols++
		}
	}
	// Independent rows, modulo the prime: an echelon basis, each row reduced by those before.
	var basis [][]uint64
	var lead []int
	var A [][]float64
	var b []float64
	for _, r := range rows {
		v := make([]uint64, cols)
		for i := range r.form.each {
			v[s.col[i]] = 1
		}
		for bi, br := range basis {
			if f := v[lead[bi]]; f != 0 {
				for k := lead[bi]; k < cols; k++ {
					if br[k] != 0 {
						v[k] = (v[k] + modulus - mulmod(f, br[k])) % modulus
					}
				}
			}
		}
		p := slices.IndexFunc(v, func(x uint64) bool { return x != 0 })
		if p < 0 {
			continue
		}
		inv := powmod(v[p], modulus-2)
		for k := p; k < cols; k++ {
			v[k] = mulmod(v[k], inv)
		}
		at, _ := slices.BinarySearch(lead, p)
		lead = slices.Insert(lead, at, p)
		basis = slices.Insert(basis, at, v)
		dense := make([]float64, cols)
		for i := range r.form.each {
			dense[s.col[i]] = 1
		}
		A = append(A, dense)
		b = append(b, float64(r.value))
	}
	s.Rank = len(A)
	t, err := feasible(A, b, cols)
	if err != nil {
		return nil, err
	}
	s.t, s.scratch = t, &tableau{}
	for _, f := range a.listed {
		s.listed = append(s.listed, f)
	}
	return s, nil
}

// Interval is what the system says of one count: Lo ≤ count ≤ Hi, Hi = -1 for no upper bound.
type Interval struct{ Lo, Hi int64 }

// Bounds returns the integer bounds of the count of form's atoms that the system implies,
// from its linear program's minimum and maximum rounded inwards (sound: integer counts
// can only be bounded more tightly). It stops as soon as the interval is known to hold 0
// or k (then Lo or Hi is that value, not the bound). With existence, a form holding a
// listed combination counts at least one.
func (s *System) Bounds(form bitset, k int64, existence bool) (Interval, error) {
	f := form.clone()
	f.andNot(s.zero)
	if f.empty() {
		return Interval{0, 0}, nil
	}
	c := make([]float64, s.t.n)
	free := false
	for i := range f.each {
		if s.col[i] < 0 {
			free = true
		} else {
			c[s.col[i]] = 1
		}
	}
	iv := Interval{Hi: -1}
	if !free {
		neg := make([]float64, len(c))
		for i, v := range c {
			neg[i] = -v
		}
		z, unbounded, ok := s.t.minimize(neg, func(z float64) bool { return -z >= float64(k)-1e-6 }, s.scratch)
		if unbounded || !ok {
			return iv, nil
		}
		iv.Hi = int64(math.Floor(-z + 1e-6))
	}
	if iv.Hi < 0 || iv.Hi >= k {
		return iv, nil
	}
	if existence && s.known(form) {
		iv.Lo = 1
	}
	z, _, ok := s.t.minimize(c, func(z float64) bool { return z <= 1e-6 }, s.scratch)
	if !ok {
		return iv, nil
	}
	iv.Lo = max(iv.Lo, int64(math.Ceil(z-1e-6)))
	return iv, nil
}

// known reports whether form holds a combination an answer listed.
func (s *System) known(form bitset) bool {
	for _, l := range s.listed {
		if l.subsetOf(form) {
			return true
		}
	}
	return false
}

// Disclosure is a count from 1 to k-1 that the answers pin or bound away from 0 and k.
type Disclosure struct {
	// What names the count: an answer's withheld number, or a combination of values.
	What string
	// True is the count; Lo and Hi what the attacker proves of it.
	True, Lo, Hi int64
	// form is the atoms the count adds up.
	form bitset
}

func (d Disclosure) String() string {
	if d.Lo == d.Hi {
		return fmt.Sprintf("%s: pinned at %d", d.What, d.True)
	}
	return fmt.Sprintf("%s: %d, bounded to [%d, %d]", d.What, d.True, d.Lo, d.Hi)
}

// Report is the outcome of an attack.
type Report struct {
	// Questions is how many small counts (1..k-1) were asked about.
	Questions   int
	Disclosures []Disclosure
	Equations   int
	Rank        int
	Withheld    int
}

// Attack asks the system about every small count of truth (from 1 to k-1): every
// combination of a node of each coordinate (all of it, a value, a region where the
// coordinate is a country: the atoms and every marginal among them) and every number an
// answer withheld. It reports those whose interval excludes 0 and k. With existence, a
// combination an answer listed is known to hold at least one person.
func (a *Attacker) Attack(truth *Caseload, k int64, existence bool) (Report, error) {
	return a.attack(truth, k, existence, false)
}

// FirstLeak asks the questions of Attack, without existence, until one is a disclosure: it
// reports at most one, and the questions asked until then. It is for a test that needs to
// know that answers leak, not how much: a count the answers disclose is solved to its exact
// bounds, the costly case, and a leaking system has hundreds.
func (a *Attacker) FirstLeak(truth *Caseload, k int64) (Report, error) {
	return a.attack(truth, k, false, true)
}

// errLeaked ends an attack at its first disclosure.
var errLeaked = errors.New("attacktest: leaked")

func (a *Attacker) attack(truth *Caseload, k int64, existence, first bool) (Report, error) {
	s, err := a.System()
	if err != nil {
		return Report{}, err
	}
	rep := Report{Equations: s.Equations, Rank: s.Rank, Withheld: len(a.withheld)}
	asked := map[string]bool{}
	ask := func(f bitset, what string) error {
		if asked[f.key()] {
			return nil
		}
		asked[f.key()] = true
		n := truth.Count(f)
		if n < 1 || n >= k {
			return nil
		}
		rep.Questions++
		iv, err := s.Bounds(f, k, existence)
		if err != nil {
			return err
		}
		if iv.Lo >= 1 && iv.Hi >= 0 && iv.Hi <= k-1 {
			if iv.Lo > n || iv.Hi < n {
				return fmt.Errorf("attacktest: %s is %d, and the system bounds it to [%d, %d]: the model is wrong", what, n, iv.Lo, iv.Hi)
			}
			rep.Disclosures = append(rep.Disclosures, Disclosure{What: what, True: n, Lo: iv.Lo, Hi: iv.Hi, form: f})
			if first {
				return errLeaked
			}
		}
		return nil
	}
	for _, m := range a.dom.marginals() {
		if err := ask(m.form, m.what); err != nil {
			return rep, leaked(err)
		}
	}
	qs := make([]*question, 0, len(a.withheld))
	for _, q := range a.withheld {
		qs = append(qs, q)
	}
	slices.SortFunc(qs, func(x, y *question) int { return strings.Compare(x.what, y.what) })
	for _, q := range qs {
		if err := ask(q.form, "withheld: "+q.what); err != nil {
			return rep, leaked(err)
		}
	}
	return rep, nil
}

// leaked is err, nil when it is the end of an attack at its first disclosure.
func leaked(err error) error {
	if errors.Is(err, errLeaked) {
		return nil
	}
	return err
}

type marginal struct {
	form bitset
	what string
}

// marginals lists every combination of a node per coordinate: all of it, one of its
// values, or one region of a country coordinate.
func (d *Domain) marginals() []marginal {
	type node struct {
		set  bitset
		name string
	}
	levels := make([][]node, len(d.Coords))
	for c, co := range d.Coords {
		levels[c] = []node{{}}
		dims := []analyticsv1.Dimension{co.Dim}
		for dd, from := range derived {
			if from == co.Dim {
				dims = append(dims, dd)
			}
		}
		for _, dim := range dims {
			for _, v := range d.Values(dim) {
				levels[c] = append(levels[c], node{d.sets[dim][v], dimName(dim) + "=" + v})
			}
		}
	}
	all := newBitset(d.Atoms())
	for i := range d.Atoms() {
		all.set(i)
	}
	var out []marginal
	var walk func(c int, f bitset, names []string)
	walk = func(c int, f bitset, names []string) {
		if f.empty() {
			return
		}
		if c == len(levels) {
			out = append(out, marginal{f, strings.Join(names, " ")})
			return
		}
		for _, n := range levels[c] {
			if n.set == nil {
				walk(c+1, f, names)
				continue
			}
			g := f.clone()
			g.and(n.set)
			walk(c+1, g, append(names, n.name))
		}
	}
	walk(0, all, nil)
	return out
}
