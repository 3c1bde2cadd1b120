package attacktest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// Scenario is one random attack of persons returned: a caseload drawn from a seed and the
// questions an analyst sends about it, in the order sent.
type Scenario struct {
	Seed     uint64
	Caseload *Caseload
	Plan     Plan
	// Planned is how many requests the plan lists; Requests the ones sent, a random subset
	// of them in a random order.
	Planned  int
	Requests []*analyticsv1.AggregateRequest
}

// MaxAtoms bounds a random scenario's atoms, so that its linear programs stay small.
const MaxAtoms = 360

// The values random domains draw from: host countries in four regions (MENA, WCA, SEEECA,
// EEA), return countries and nationalities in four (EHoA, WCA, APAC, MENA), adult age bands.
var (
	hostPool        = []string{"MAR", "TUN", "LBY", "EGY", "NER", "MLI", "TUR", "DEU"}
	returnPool      = []string{"ETH", "SOM", "GIN", "NGA", "SEN", "GMB", "AFG", "PAK", "IRQ"}
	nationalityPool = []string{"NGA", "GIN", "SEN", "ETH", "AFG", "SYR"}
	agePool         = []string{"18_20", "24_26", "30_38", "39_47", "48_PLUS"}
)

// RandomScenario draws scenario seed: a caseload of 60 to 1,000 persons returned over one to
// three years and one or two programmes (AVRR, HASM), by sex, from one to four host countries
// to two to five return countries; one time in two also by nationality and age band, so that
// questions crossing two release tables are asked (and must be refused). Values are drawn
// with skewed weights (log-normal, a spread drawn per caseload) so that small and large cells
// sit side by side, and the domain is cut to at most MaxAtoms atoms. The plan groups by up to
// two or three dimensions, keeps to the grid one time in four, and adds year-and-value
// filters one time in two; maxRequests of its requests (all when 0 or more than it lists)
// are sent, chosen and ordered at random. The same seed, the same scenario.
func RandomScenario(seed uint64, maxRequests int) (*Scenario, error) {
	r := rand.New(rand.NewPCG(seed, 0xa77ac4))
	spread := 0.4 + 1.2*r.Float64()
	weights := func(n int) []float64 {
		w := make([]float64, n)
		for i := range w {
			w[i] = math.Exp(spread * r.NormFloat64())
		}
		return w
	}
	pick := func(pool []string, lo, hi int) []string {
		n := lo + r.IntN(hi-lo+1)
		out := make([]string, 0, n)
		for _, i := range r.Perm(len(pool))[:n] {
			out = append(out, pool[i])
		}
		return out
	}
	first := 2022 + r.IntN(3)
	years := make([]string, 1+r.IntN(3))
	for i := range years {
		years[i] = strconv.Itoa(first + i)
	}
	programmes := [][]string{{"AVRR"}, {"HASM"}, {"AVRR", "HASM"}, {"AVRR", "HASM"}}[r.IntN(4)]
	values := map[analyticsv1.Dimension][]string{
		analyticsv1.Dimension_DIMENSION_YEAR:           years,
		analyticsv1.Dimension_DIMENSION_PROGRAMME:      programmes,
		analyticsv1.Dimension_DIMENSION_SEX:            {"FEMALE", "MALE"},
		analyticsv1.Dimension_DIMENSION_HOST_COUNTRY:   pick(hostPool, 1, 4),
		analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY: pick(returnPool, 2, 5),
	}
	order := []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_PROGRAMME,
		analyticsv1.Dimension_DIMENSION_SEX, analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY}
	if r.IntN(2) == 0 {
		values[analyticsv1.Dimension_DIMENSION_NATIONALITY] = pick(nationalityPool, 2, 3)
		values[analyticsv1.Dimension_DIMENSION_AGE_BAND] = pick(agePool, 2, 3)
		order = append(order, analyticsv1.Dimension_DIMENSION_NATIONALITY, analyticsv1.Dimension_DIMENSION_AGE_BAND)
	}
	// Cut the domain to MaxAtoms: a value off the widest of the countries, nationality and
	// age band (two values each at least), then a year.
	atoms := func() int {
		n := 1
		for _, vs := range values {
			n *= len(vs)
		}
		return n
	}
	for atoms() > MaxAtoms {
		widest := analyticsv1.Dimension_DIMENSION_YEAR
		for _, d := range order[3:] {
			if len(values[d]) > 2 && (widest == analyticsv1.Dimension_DIMENSION_YEAR || len(values[d]) > len(values[widest])) {
				widest = d
			}
		}
		if widest == analyticsv1.Dimension_DIMENSION_YEAR && len(values[widest]) == 1 {
			return nil, fmt.Errorf("attacktest: scenario %d: no domain of at most %d atoms", seed, MaxAtoms)
		}
		values[widest] = values[widest][:len(values[widest])-1]
	}
	coords := make([]Coordinate, len(order))
	for i, d := range order {
		coords[i] = Coordinate{Dim: d, Values: values[d], Weights: weights(len(values[d]))}
	}
	c, err := Generate(coords, 60+r.IntN(941), r.Uint64())
	if err != nil {
		return nil, err
	}
	p := Plan{MaxGroupBy: 3, Grid: r.IntN(4) == 0}
	if r.IntN(5) == 0 {
		p.MaxGroupBy = 2
	}
	p.Pairs = !p.Grid && r.IntN(2) == 0
	reqs := Queries(c.Domain, analyticsv1.Measure_MEASURE_PERSONS_RETURNED, p)
	s := &Scenario{Seed: seed, Caseload: c, Plan: p, Planned: len(reqs)}
	r.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	if maxRequests > 0 && maxRequests < len(reqs) {
		reqs = reqs[:maxRequests]
	}
	s.Requests = reqs
	return s, nil
}

// String describes the scenario for a test's log: its seed, persons, coordinates, plan and
// how many of the plan's requests it sends.
func (s *Scenario) String() string {
	var dims []string
	for _, co := range s.Caseload.Domain.Coords {
		dims = append(dims, fmt.Sprintf("%s %d", dimName(co.Dim), len(co.Values)))
	}
	return fmt.Sprintf("seed %d: %d persons, %s (%d atoms); plan %+v, %d of %d requests", s.Seed,
		s.Caseload.Persons(), strings.Join(dims, " × "), s.Caseload.Domain.Atoms(), s.Plan, len(s.Requests), s.Planned)
}
