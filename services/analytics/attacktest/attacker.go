package attacktest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// Attacker is the analyst who keeps every answer: each number an answer released is an
// equation over the counts of a Domain's atoms, each combination an answer did not list is a
// zero, and each number withheld is kept as a question to ask (see the package
// documentation). It reads one measure.
type Attacker struct {
	dom     *Domain
	measure analyticsv1.Measure
	// eqs are the released numbers, by their form: the atoms they add up.
	eqs map[string]*equation
	// withheld are the numbers answers withheld, by form.
	withheld map[string]*question
	// listed are the forms of cells an answer listed (released above zero or withheld):
	// combinations with at least one person.
	listed map[string]bitset
	// listedWithheld are the forms of cells an answer listed as withheld.
	listedWithheld map[string]bitset
	// Answers, Noisy and Numbers count what Observe was given: answers read into the
	// system, differentially private answers left out of it, and the numbers read.
	Answers, Noisy, Numbers int
}

type equation struct {
	form  bitset
	value int64
	what  string
}

type question struct {
	form bitset
	what string
}

// NewAttacker returns an attacker who has seen nothing yet.
func NewAttacker(d *Domain, measure analyticsv1.Measure) *Attacker {
	return &Attacker{dom: d, measure: measure, eqs: map[string]*equation{},
		withheld: map[string]*question{}, listed: map[string]bitset{}, listedWithheld: map[string]bitset{}}
}

// Observe reads one answer to req. A differentially private answer is counted and left
// out: its numbers are noisy, not equations. An answer that contradicts an earlier one, or
// that the model cannot read (a dimension or key outside the domain, distinct_values saying
// more than the cells listed), is an error.
func (a *Attacker) Observe(req *analyticsv1.AggregateRequest, resp *analyticsv1.AggregateResponse) error {
	if req.GetMeasure() != a.measure {
		return fmt.Errorf("attacktest: an answer about %v, the attacker reads %v", req.GetMeasure(), a.measure)
	}
	if req.GetDifferentialPrivacy() != nil || resp.GetEpsilon() != 0 {
		a.Noisy++
		return nil
	}
	what := describe(req)
	filter, err := a.dom.filter(req.GetFilter())
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	groupBy := req.GetGroupBy()
	for _, d := range groupBy {
		if a.dom.sets[d] == nil {
			return fmt.Errorf("%s: %v is not a dimension of the domain", what, d)
		}
	}
	a.Answers++
	form := func(keys []string) (bitset, error) {
		if len(keys) != len(groupBy) {
			return nil, fmt.Errorf("%s: keys %q for %d dimensions", what, keys, len(groupBy))
		}
		f := filter.clone()
		for i, k := range keys {
			if k == "" {
				continue
			}
			s, ok := a.dom.sets[groupBy[i]][k]
			if !ok {
				return nil, fmt.Errorf("%s: key %q of %v outside the domain", what, k, groupBy[i])
			}
			f.and(s)
		}
		return f, nil
	}
	listed := map[string]bool{}
	read := func(c *analyticsv1.Cell, cell bool) error {
		a.Numbers++
		f, err := form(c.GetKeys())
		if err != nil {
			return err
		}
		w := what + " " + strconv.Quote(strings.Join(c.GetKeys(), "|"))
		if cell {
			listed[strings.Join(c.GetKeys(), "\x00")] = true
			if c.GetSuppressed() || c.GetCount() > 0 {
				a.listed[f.key()] = f
			}
			if c.GetSuppressed() {
				a.listedWithheld[f.key()] = f
			}
		}
		if c.GetSuppressed() {
			if _, ok := a.withheld[f.key()]; !ok {
				a.withheld[f.key()] = &question{form: f, what: w}
			}
			return nil
		}
		return a.equate(f, c.GetCount(), w)
	}
	for _, c := range resp.GetCells() {
		if err := read(c, len(groupBy) > 0); err != nil {
			return err
		}
	}
	for _, c := range resp.GetTotals() {
		if err := read(c, false); err != nil {
			return err
		}
	}
	if len(groupBy) == 0 {
		return nil
	}
	// Every non-empty combination is listed: one not listed counts nobody.
	values := make([][]string, len(groupBy))
	for i, d := range groupBy {
		values[i] = a.dom.Values(d)
	}
	keys := make([]string, len(groupBy))
	var zeros func(i int) error
	zeros = func(i int) error {
		if i == len(groupBy) {
			if listed[strings.Join(keys, "\x00")] {
				return nil
			}
			f, err := form(keys)
			if err != nil || f.empty() {
				return err
			}
			return a.equate(f, 0, what+" absent "+strconv.Quote(strings.Join(keys, "|")))
		}
		for _, v := range values[i] {
			keys[i] = v
			if err := zeros(i + 1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := zeros(0); err != nil {
		return err
	}
	// distinct_values may say no more than the cells listed.
	for i, n := range resp.GetDistinctValues() {
		seen := map[string]bool{}
		for _, c := range resp.GetCells() {
			if i < len(c.GetKeys()) {
				seen[c.GetKeys()[i]] = true
			}
		}
		if int(n) != len(seen) {
			return fmt.Errorf("%s: distinct_values[%d] is %d, the cells list %d values: it tells what the cells do not", what, i, n, len(seen))
		}
	}
	return nil
}

// equate records that the atoms of f add up to v.
func (a *Attacker) equate(f bitset, v int64, what string) error {
	if f.empty() {
		if v != 0 {
			return fmt.Errorf("%s: %d persons where the domain has no atom", what, v)
		}
		return nil
	}
	if e, ok := a.eqs[f.key()]; ok {
		if e.value != v {
			return fmt.Errorf("%s is %d, but %s was %d: the same persons counted twice differently", what, v, e.what, e.value)
		}
		return nil
	}
	a.eqs[f.key()] = &equation{form: f, value: v, what: what}
	return nil
}

// filter is the atoms f counts.
func (a *Domain) filter(f *analyticsv1.Filter) (bitset, error) {
	s := newBitset(a.Atoms())
	for i := range a.Atoms() {
		s.set(i)
	}
	any := func(d analyticsv1.Dimension, vs []string) error {
		if len(vs) == 0 {
			return nil
		}
		sets := a.sets[d]
		if sets == nil {
			return fmt.Errorf("filter on %v, not a dimension of the domain", d)
		}
		u := newBitset(a.Atoms())
		for _, v := range vs {
			if x, ok := sets[v]; ok {
				u.or(x)
			}
		}
		s.and(u)
		return nil
	}
	programmes := make([]string, len(f.GetProgrammes()))
	for i, p := range f.GetProgrammes() {
		programmes[i] = strings.TrimPrefix(p.String(), "PROGRAMME_")
	}
	var years []string
	if f.GetYearFrom() != 0 || f.GetYearTo() != 0 {
		if a.sets[analyticsv1.Dimension_DIMENSION_YEAR] == nil {
			return nil, fmt.Errorf("a year range, and the domain has no year")
		}
		for _, y := range a.Values(analyticsv1.Dimension_DIMENSION_YEAR) {
			n, err := strconv.Atoi(y)
			if err != nil {
				return nil, err
			}
			if (f.GetYearFrom() == 0 || n >= int(f.GetYearFrom())) && (f.GetYearTo() == 0 || n <= int(f.GetYearTo())) {
				years = append(years, y)
			}
		}
		if len(years) == 0 {
			return newBitset(a.Atoms()), nil
		}
	}
	for _, c := range []struct {
		d  analyticsv1.Dimension
		vs []string
	}{
		{analyticsv1.Dimension_DIMENSION_PROGRAMME, programmes},
		{analyticsv1.Dimension_DIMENSION_YEAR, years},
		{analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, f.GetHostCountries()},
		{analyticsv1.Dimension_DIMENSION_HOST_REGION, f.GetHostRegions()},
		{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, f.GetReturnCountries()},
		{analyticsv1.Dimension_DIMENSION_RETURN_REGION, f.GetReturnRegions()},
		{analyticsv1.Dimension_DIMENSION_NATIONALITY, f.GetNationalities()},
	} {
		if err := any(c.d, c.vs); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// describe names a request for a report: measure, dimensions, filter.
func describe(req *analyticsv1.AggregateRequest) string {
	dims := make([]string, len(req.GetGroupBy()))
	for i, d := range req.GetGroupBy() {
		dims[i] = dimName(d)
	}
	s := strings.TrimPrefix(req.GetMeasure().String(), "MEASURE_") + " by [" + strings.Join(dims, " ") + "]"
	if f := req.GetFilter(); f != nil {
		s += " {" + strings.TrimSpace(prototext.MarshalOptions{}.Format(f)) + "}"
	}
	return s
}

// ListedWithheld counts the distinct cells answers listed as withheld, and how many of them
// hold nobody in truth. The existence knowledge of Attack (a listed cell holds someone) is
// sound only for a service that lists no empty cell: empty is then 0.
func (a *Attacker) ListedWithheld(truth *Caseload) (cells, empty int) {
	for _, f := range a.listedWithheld {
		cells++
		if truth.Count(f) == 0 {
			empty++
		}
	}
	return cells, empty
}

// Check verifies that the true counts satisfy every equation the answers gave: a model
// that reads an answer wrongly (a cell taken as absent that has persons) fails here.
func (a *Attacker) Check(truth *Caseload) error {
	keys := make([]string, 0, len(a.eqs))
	for k := range a.eqs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e := a.eqs[k]
		if got := truth.Count(e.form); got != e.value {
			return fmt.Errorf("attacktest: %s reads as %d, the caseload has %d", e.what, e.value, got)
		}
	}
	return nil
}
