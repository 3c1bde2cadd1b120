package attacktest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/passage-cm/passage/internal/region"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// Coordinate is one dimension a caseload varies, with its values (codes as Aggregate's keys
// spell them: "2025", "AVRR", "FEMALE", "MAR") and how often each is drawn.
type Coordinate struct {
	Dim     analyticsv1.Dimension
	Values  []string
	Weights []float64
}

// derived are the dimensions read from a coordinate through internal/region: a country's
// region. Queries may group and filter by them wherever their country is a coordinate.
var derived = map[analyticsv1.Dimension]analyticsv1.Dimension{
	analyticsv1.Dimension_DIMENSION_HOST_REGION:   analyticsv1.Dimension_DIMENSION_HOST_COUNTRY,
	analyticsv1.Dimension_DIMENSION_RETURN_REGION: analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY,
}

func regionOf(country string) string {
	if r, ok := region.CodeOf(country); ok {
		return r
	}
	return "UNKNOWN"
}

// Domain is the population's atoms: one per combination of a value of every coordinate,
// numbered in mixed radix (the last coordinate fastest). It is what the analyst knows
// before any answer: which dimensions vary and their values (any one-dimension answer
// lists them).
type Domain struct {
	Coords []Coordinate
	// atoms[i][c] is the value index of coordinate c in atom i.
	atoms [][]int
	// sets[dim][value] are the atoms holding value (a coordinate's or a derived dimension's).
	sets map[analyticsv1.Dimension]map[string]bitset
	// order lists the dimensions a query may use: the coordinates, then the derived ones.
	order []analyticsv1.Dimension
}

// NewDomain numbers the atoms of coords.
func NewDomain(coords []Coordinate) (*Domain, error) {
	d := &Domain{Coords: coords, sets: map[analyticsv1.Dimension]map[string]bitset{}}
	n := 1
	for _, c := range coords {
		if len(c.Values) == 0 || (c.Weights != nil && len(c.Weights) != len(c.Values)) {
			return nil, fmt.Errorf("attacktest: coordinate %v: values and weights", c.Dim)
		}
		if _, dup := d.sets[c.Dim]; dup {
			return nil, fmt.Errorf("attacktest: coordinate %v twice", c.Dim)
		}
		d.sets[c.Dim] = map[string]bitset{}
		d.order = append(d.order, c.Dim)
		n *= len(c.Values)
	}
	d.atoms = make([][]int, n)
	for i := range n {
		a := make([]int, len(coords))
		r := i
		for c := len(coords) - 1; c >= 0; c-- {
			a[c] = r % len(coords[c].Values)
			r /= len(coords[c].Values)
		}
		d.atoms[i] = a
	}
	for dd, from := range derived {
		if _, ok := d.sets[from]; ok {
			d.sets[dd] = map[string]bitset{}
			d.order = append(d.order, dd)
		}
	}
	slices.Sort(d.order[len(coords):])
	for i := range d.atoms {
		for _, dim := range d.order {
			v := d.Value(i, dim)
			s, ok := d.sets[dim][v]
			if !ok {
				s = newBitset(n)
				d.sets[dim][v] = s
			}
			s.set(i)
		}
	}
	return d, nil
}

// Atoms is the number of atoms.
func (d *Domain) Atoms() int { return len(d.atoms) }

// Dimensions lists the dimensions a query may group or filter by.
func (d *Domain) Dimensions() []analyticsv1.Dimension { return d.order }

// Values lists the values of dim in the domain, sorted.
func (d *Domain) Values(dim analyticsv1.Dimension) []string {
	var out []string
	for v := range d.sets[dim] {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Value is atom i's value of dim ("" when dim is not in the domain).
func (d *Domain) Value(i int, dim analyticsv1.Dimension) string {
	if from, ok := derived[dim]; ok {
		if v := d.Value(i, from); v != "" {
			return regionOf(v)
		}
		return ""
	}
	for c, co := range d.Coords {
		if co.Dim == dim {
			return co.Values[d.atoms[i][c]]
		}
	}
	return ""
}

// Describe names atom i, e.g. "YEAR=2025 SEX=FEMALE HOST_COUNTRY=MAR".
func (d *Domain) Describe(i int) string {
	parts := make([]string, len(d.Coords))
	for c, co := range d.Coords {
		parts[c] = dimName(co.Dim) + "=" + co.Values[d.atoms[i][c]]
	}
	return strings.Join(parts, " ")
}

func dimName(d analyticsv1.Dimension) string { return strings.TrimPrefix(d.String(), "DIMENSION_") }

// Caseload is a synthetic population: a count of persons per atom of its Domain.
type Caseload struct {
	Domain *Domain
	Counts []int64
}

// Generate draws persons independently, each coordinate's value by its weights (equal when
// none are given), from a seeded source: the same seed, the same caseload.
func Generate(coords []Coordinate, persons int, seed uint64) (*Caseload, error) {
	d, err := NewDomain(coords)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	counts := make([]int64, d.Atoms())
	for range persons {
		i := 0
		for _, c := range coords {
			i = i*len(c.Values) + draw(r, c)
		}
		counts[i]++
	}
	return &Caseload{Domain: d, Counts: counts}, nil
}

func draw(r *rand.Rand, c Coordinate) int {
	if c.Weights == nil {
		return r.IntN(len(c.Values))
	}
	var sum float64
	for _, w := range c.Weights {
		sum += w
	}
	x := r.Float64() * sum
	for i, w := range c.Weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(c.Weights) - 1
}

// Count is the true count of the atoms in s.
func (c *Caseload) Count(s bitset) int64 {
	var n int64
	for i := range s.each {
		n += c.Counts[i]
	}
	return n
}

// Persons is the caseload's size.
func (c *Caseload) Persons() int64 {
	var n int64
	for _, x := range c.Counts {
		n += x
	}
	return n
}

// Rows are the caseload as rows of analytics.rollup for measure: one per atom with persons,
// every dimension not a coordinate set to what base holds (age band, nationality, ...). A
// coordinate may be YEAR, PROGRAMME, SEX, AGE_BAND, NATIONALITY, HOST_COUNTRY or
// RETURN_COUNTRY.
func (c *Caseload) Rows(measure string, base cube.Row) ([]cube.Row, error) {
	var rows []cube.Row
	for i, n := range c.Counts {
		if n == 0 {
			continue
		}
		r := base
		r.Measure, r.Persons = measure, n
		for _, co := range c.Domain.Coords {
			v := c.Domain.Value(i, co.Dim)
			switch co.Dim {
			case analyticsv1.Dimension_DIMENSION_YEAR:
				y, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("attacktest: year %q: %w", v, err)
				}
				r.Year = y
			case analyticsv1.Dimension_DIMENSION_PROGRAMME:
				r.Programme = v
			case analyticsv1.Dimension_DIMENSION_SEX:
				r.Sex = v
			case analyticsv1.Dimension_DIMENSION_AGE_BAND:
				r.AgeBand = v
			case analyticsv1.Dimension_DIMENSION_NATIONALITY:
				r.Nationality = v
			case analyticsv1.Dimension_DIMENSION_HOST_COUNTRY:
				r.HostCountry = v
			case analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY:
				r.ReturnCountry = v
			default:
				return nil, fmt.Errorf("attacktest: %v is not a rollup column this package writes", co.Dim)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Returns draws a caseload of persons returned like the seed's, small enough to attack
// exactly: two years, AVRR and HASM, by sex, from four host countries in two regions (MENA,
// WCA) to five return countries in two (WCA, EHoA), each coordinate's values drawn with
// unequal weights so that large and small cells sit side by side. 160 atoms.
func Returns(persons int, seed uint64) (*Caseload, error) {
	return Generate([]Coordinate{
		{Dim: analyticsv1.Dimension_DIMENSION_YEAR, Values: []string{"2024", "2025"}, Weights: []float64{0.45, 0.55}},
		{Dim: analyticsv1.Dimension_DIMENSION_PROGRAMME, Values: []string{"AVRR", "HASM"}, Weights: []float64{0.8, 0.2}},
		{Dim: analyticsv1.Dimension_DIMENSION_SEX, Values: []string{"FEMALE", "MALE"}, Weights: []float64{0.4, 0.6}},
		{Dim: analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, Values: []string{"MAR", "MLI", "NER", "TUN"}, Weights: []float64{0.4, 0.15, 0.3, 0.15}},
		{Dim: analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, Values: []string{"ETH", "GIN", "NGA", "SEN", "SOM"}, Weights: []float64{0.12, 0.15, 0.4, 0.25, 0.08}},
	}, persons, seed)
}
