package attacktest

import (
	"slices"
	"strings"
	"testing"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

const returned = analyticsv1.Measure_MEASURE_PERSONS_RETURNED

var byReturnCountry = []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY}

// morocco is the worked example reduced to one host country: persons returned from
// Morocco by return country, truth ETH 3, GIN 12, NGA 2, SEN 18, SOM 0 (ETH and SOM are
// the region EHoA, the others WCA).
func morocco(t *testing.T) *Caseload {
	t.Helper()
	d, err := NewDomain([]Coordinate{
		{Dim: analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, Values: []string{"MAR"}},
		{Dim: analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, Values: []string{"ETH", "GIN", "NGA", "SEN", "SOM"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Caseload{Domain: d, Counts: []int64{3, 12, 2, 18, 0}}
}

func cell(count int64, keys ...string) *analyticsv1.Cell {
	return &analyticsv1.Cell{Keys: keys, Count: count}
}

func withheld(keys ...string) *analyticsv1.Cell {
	return &analyticsv1.Cell{Keys: keys, Suppressed: true}
}

// total is a request for the grand total of the persons returned to countries.
func total(countries ...string) *analyticsv1.AggregateRequest {
	return &analyticsv1.AggregateRequest{Measure: returned, Filter: &analyticsv1.Filter{ReturnCountries: countries}}
}

func disclosed(t *testing.T, a *Attacker, c *Caseload, existence bool) []string {
	t.Helper()
	if err := a.Check(c); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Attack(c, 11, existence)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range rep.Disclosures {
		if !strings.HasPrefix(d.What, "withheld") {
			out = append(out, d.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestWorkedExample: a row total and its released cells leave two withheld cells whose sum
// is small but not either alone; a second answer's total pins both. A combination an answer
// listed holds someone, and with that knowledge the first two answers already bound both.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	c := morocco(t)
	a := NewAttacker(c.Domain, returned)
	byCountry := &analyticsv1.AggregateResponse{
		Cells:          []*analyticsv1.Cell{withheld("ETH"), cell(12, "GIN"), withheld("NGA"), withheld("SEN")},
		Totals:         []*analyticsv1.Cell{cell(35, "")},
		DistinctValues: []int32{4},
	}
	for _, o := range []struct {
		req  *analyticsv1.AggregateRequest
		resp *analyticsv1.AggregateResponse
	}{
		{&analyticsv1.AggregateRequest{Measure: returned, GroupBy: byReturnCountry}, byCountry},
		{total("SEN"), &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{cell(18)}}},
	} {
		if err := a.Observe(o.req, o.resp); err != nil {
			t.Fatal(err)
		}
	}
	// ETH + NGA = 35 - 12 - 18 = 5: each in [0, 5], neither pinned; SOM, not listed, is 0.
	if got := disclosed(t, a, c, false); len(got) != 0 {
		t.Errorf("two answers disclose %q, want nothing", got)
	}
	want := []string{"RETURN_COUNTRY=ETH: 3, bounded to [1, 5]", "RETURN_COUNTRY=NGA: 2, bounded to [1, 5]", "RETURN_REGION=EHoA: 3, bounded to [1, 5]"}
	if got := disclosed(t, a, c, true); !slices.Equal(got, want) {
		t.Errorf("with existence: %q, want %q", got, want)
	}
	if err := a.Observe(total("GIN", "NGA"), &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{cell(14)}}); err != nil {
		t.Fatal(err)
	}
	want = []string{"RETURN_COUNTRY=ETH: pinned at 3", "RETURN_COUNTRY=NGA: pinned at 2", "RETURN_REGION=EHoA: pinned at 3"}
	if got := disclosed(t, a, c, false); !slices.Equal(got, want) {
		t.Errorf("three answers: %q, want %q", got, want)
	}
}

// TestNarrowedAwayFromZero: a count bounded to an interval that excludes 0 and k is a
// disclosure though not pinned. ETH + GIN = 15 and GIN + NGA = 14 make ETH = 1 + NGA with
// NGA in [0, 14]: ETH in [1, 15], which holds k. NGA + SOM = 2 then bounds ETH to [1, 3],
// and pins ETH + SOM (the region EHoA) at 1 + NGA + SOM = 3.
func TestNarrowedAwayFromZero(t *testing.T) {
	t.Parallel()
	c := morocco(t)
	a := NewAttacker(c.Domain, returned)
	observe := func(n int64, countries ...string) {
		t.Helper()
		if err := a.Observe(total(countries...), &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{cell(n)}}); err != nil {
			t.Fatal(err)
		}
	}
	observe(15, "ETH", "GIN")
	observe(14, "GIN", "NGA")
	if got := disclosed(t, a, c, false); len(got) != 0 {
		t.Errorf("ETH in [1, 15]: %q disclosed, want nothing", got)
	}
	observe(2, "NGA", "SOM")
	want := []string{"RETURN_COUNTRY=ETH: 3, bounded to [1, 3]", "RETURN_REGION=EHoA: pinned at 3"}
	if got := disclosed(t, a, c, false); !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestObserveReadsTheContract: a differentially private answer adds no equation; a cell the
// answer did not list is read as empty, and Check catches a service that leaves out a cell
// with persons; answers that contradict each other, and distinct_values counting more
// values than the cells list, are errors.
func TestObserveReadsTheContract(t *testing.T) {
	t.Parallel()
	c := morocco(t)
	a := NewAttacker(c.Domain, returned)
	dp := &analyticsv1.AggregateRequest{Measure: returned, GroupBy: byReturnCountry,
		Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 0.5}}}
	if err := a.Observe(dp, &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{cell(4, "NGA")}, Epsilon: 0.5}); err != nil {
		t.Fatal(err)
	}
	if a.Noisy != 1 || a.Answers != 0 || len(a.eqs) != 0 {
		t.Errorf("a noisy answer: %d noisy, %d answers, %d equations; want 1, 0, 0", a.Noisy, a.Answers, len(a.eqs))
	}
	// GIN is left out: read as zero, which the caseload contradicts.
	if err := a.Observe(&analyticsv1.AggregateRequest{Measure: returned, GroupBy: byReturnCountry}, &analyticsv1.AggregateResponse{
		Cells:  []*analyticsv1.Cell{withheld("ETH"), withheld("NGA"), cell(18, "SEN")},
		Totals: []*analyticsv1.Cell{cell(35, "")}, DistinctValues: []int32{3}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(c); err == nil || !strings.Contains(err.Error(), `absent "GIN"`) {
		t.Errorf("Check: %v, want GIN read as absent", err)
	}
	if err := a.Observe(total("SEN"), &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{cell(17)}}); err == nil {
		t.Error("SEN given as 18, then 17: no error")
	}
	b := NewAttacker(c.Domain, returned)
	if err := b.Observe(&analyticsv1.AggregateRequest{Measure: returned, GroupBy: byReturnCountry}, &analyticsv1.AggregateResponse{
		Cells: []*analyticsv1.Cell{withheld("ETH"), cell(12, "GIN"), withheld("NGA"), cell(18, "SEN")}, DistinctValues: []int32{5}}); err == nil {
		t.Error("distinct_values 5 for four cells listed: no error")
	}
}

// TestExplain: a row total less its released cells pins the sum of its withheld cells, and
// Explain names the three numbers; a count bounded but not pinned has no such explanation.
func TestExplain(t *testing.T) {
	t.Parallel()
	c := morocco(t)
	a := NewAttacker(c.Domain, returned)
	for _, o := range []struct {
		req  *analyticsv1.AggregateRequest
		resp *analyticsv1.AggregateResponse
	}{
		{&analyticsv1.AggregateRequest{Measure: returned, GroupBy: byReturnCountry}, &analyticsv1.AggregateResponse{
			Cells:          []*analyticsv1.Cell{withheld("ETH"), cell(12, "GIN"), withheld("NGA"), cell(18, "SEN")},
			Totals:         []*analyticsv1.Cell{cell(35, "")},
			DistinctValues: []int32{4},
		}},
		{total("ETH", "NGA"), &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{withheld()}}},
	} {
		if err := a.Observe(o.req, o.resp); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := a.Attack(c, 11, true)
	if err != nil {
		t.Fatal(err)
	}
	// Requests are described through prototext, whose spacing is not stable: compare the
	// explanation of the one withheld number, and that the bounded counts have none.
	var got []string
	for _, d := range rep.Disclosures {
		switch e := a.Explain(d); {
		case strings.HasPrefix(d.What, "withheld: "):
			got = append(got, strings.Join(strings.Fields(e), " "))
		case e != "":
			t.Errorf("%v, bounded but not pinned, explained as %q", d, e)
		}
	}
	want := []string{`5 = 35 [PERSONS_RETURNED by [RETURN_COUNTRY] ""] - 12 [PERSONS_RETURNED by [RETURN_COUNTRY] "GIN"] - 18 [PERSONS_RETURNED by [RETURN_COUNTRY] "SEN"]`}
	if !slices.Equal(got, want) {
		t.Errorf("explained %q, want %q", got, want)
	}
	if len(rep.Disclosures) != 4 {
		t.Errorf("%d disclosures, want ETH+NGA pinned and ETH, NGA and EHoA bounded: %v", len(rep.Disclosures), rep.Disclosures)
	}
}
