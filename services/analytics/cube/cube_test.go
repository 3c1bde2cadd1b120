package cube_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/services/analytics/cube"
)

// regionOf is a small stand-in grouping: the test is about the engine, not the reference data.
func regionOf(c string) (string, bool) {
	switch c {
	case "DEU", "FRA", "ITA":
		return "EEA", true
	case "IRQ", "EGY":
		return "MENA", true
	case "AFG", "BGD":
		return "APAC", true
	}
	return "", false
}

// person is one person counted, before any rollup: the brute-force reference.
type person struct {
	measure, programme, sex, band, nat, host, ret, assistance string
	year                                                      int
	vulns, exploit                                            []string
	// status, partner and direction describe a referral ("" for the other measures).
	status, partner, direction string
}

func (p person) value(d cube.Dim) []string {
	or := func(s []string, empty string) []string {
		if len(s) == 0 {
			return []string{empty}
		}
		return s
	}
	region := func(c string) string {
		if c == cube.None {
			return cube.None
		}
		r, ok := regionOf(c)
		if !ok {
			return cube.Unknown
		}
		return r
	}
	switch d {
	case cube.Year:
		return []string{strconv.Itoa(p.year)}
	case cube.Programme:
		return []string{p.programme}
	case cube.Sex:
		return []string{p.sex}
	case cube.AgeBand:
		return []string{p.band}
	case cube.Nationality:
		return []string{p.nat}
	case cube.HostCountry:
		return []string{p.host}
	case cube.ReturnCountry:
		if p.ret == "" {
			return []string{cube.None}
		}
		return []string{p.ret}
	case cube.HostRegion:
		return []string{region(p.host)}
	case cube.ReturnRegion:
		return []string{region(p.value(cube.ReturnCountry)[0])}
	case cube.Vulnerability:
		return or(p.vulns, cube.None)
	case cube.AssistanceType:
		return []string{p.assistance}
	case cube.ExploitationType:
		return or(p.exploit, cube.Unknown)
	case cube.ReferralStatus:
		return []string{p.status}
	case cube.PartnerType:
		return []string{p.partner}
	case cube.ReferralDirection:
		return []string{p.direction}
	}
	panic(d)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randomPeople(r *rand.Rand, n int) []person {
	vulnSets := [][]string{nil, nil, nil, {"MEDICAL_NEEDS"}, {"MEDICAL_NEEDS", "OLDER_PERSON"}, {"UNACCOMPANIED_MIGRANT_CHILD"}}
	exploitSets := [][]string{nil, {"FORCED_LABOUR"}, {"FORCED_LABOUR", "SEXUAL_EXPLOITATION"}}
	out := make([]person, n)
	for i := range out {
		out[i] = person{
			measure: pick(r, []string{"PERSONS_RETURNED", "CASES_REGISTERED"}), programme: pick(r, []string{"AVRR", "HASM"}),
			sex: pick(r, []string{"MALE", "FEMALE"}), band: pick(r, []string{"18_20", "30_38", "UNKNOWN"}),
			nat: pick(r, []string{"IRQ", "AFG", "UNKNOWN"}), host: pick(r, []string{"DEU", "FRA", "EGY", "NER"}),
			ret: pick(r, []string{"IRQ", "AFG", "BGD", ""}), year: pick(r, []int{2015, 2016, 2017}),
			vulns: pick(r, vulnSets), exploit: pick(r, exploitSets), assistance: pick(r, []string{"", "AVRR_CASH"}),
		}
		if r.IntN(4) == 0 {
			p := &out[i]
			p.measure, p.ret, p.exploit, p.assistance = "REFERRALS", "", nil, ""
			p.status = pick(r, []string{"DRAFT", "SENT", "ACCEPTED", "DECLINED", "COMPLETED"})
			p.partner = pick(r, []string{"UN_AGENCY", "NGO", "GOVERNMENT"})
			p.direction = pick(r, []string{"OUTBOUND", "INBOUND"})
		}
	}
	return out
}

// rollup counts people per full key, as the projector maintains analytics.rollup.
func rollup(people []person) []cube.Row {
	idx := map[string]int{}
	var rows []cube.Row
	for _, p := range people {
		k := fmt.Sprint(p.measure, p.year, p.programme, p.sex, p.band, p.nat, p.host, p.ret, p.vulns, p.assistance, p.exploit,
			p.status, p.partner, p.direction)
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, cube.Row{Measure: p.measure, Year: p.year, Programme: p.programme, Sex: p.sex,
				AgeBand: p.band, Nationality: p.nat, HostCountry: p.host, ReturnCountry: p.ret,
				Vulnerabilities: p.vulns, AssistanceType: p.assistance, ExploitationTypes: p.exploit,
				ReferralStatus: p.status, PartnerType: p.partner, ReferralDirection: p.direction})
		}
		rows[i].Persons++
	}
	return rows
}

// bruteForce answers q person by person: each person counts once in each combination of the
// values they have, and once in a total, however many values they have of the dimensions it
// adds over.
func bruteForce(people []person, q cube.Query) cube.Result {
	pass := func(p person) bool {
		if q.YearFrom != 0 && p.year < q.YearFrom || q.YearTo != 0 && p.year > q.YearTo || p.measure != q.Measure {
			return false
		}
		for d, vs := range q.Filter {
			if !slices.Contains(vs, p.value(d)[0]) {
				return false
			}
		}
		return true
	}
	n := len(q.GroupBy)
	var res cube.Result
	for mask := (1 << n) - 1; mask >= 0; mask-- {
		counts := map[string]int64{}
		for _, p := range people {
			if !pass(p) {
				continue
			}
			combos := [][]string{{}}
			for i, d := range q.GroupBy {
				vals := []string{""}
				if mask&(1<<i) != 0 {
					vals = p.value(d)
				}
				var next [][]string
				for _, c := range combos {
					for _, v := range vals {
						next = append(next, append(slices.Clone(c), v))
					}
				}
				combos = next
			}
			for _, c := range combos {
				counts[strings.Join(c, "\x00")]++
			}
		}
		var cells []cube.Cell
		for k, v := range counts {
			keys := strings.Split(k, "\x00")
			if n == 0 {
				keys = []string{}
			}
			cells = append(cells, cube.Cell{Keys: keys, Count: v})
		}
		slices.SortFunc(cells, func(a, b cube.Cell) int { return slices.Compare(a.Keys, b.Keys) })
		if mask == (1<<n)-1 {
			res.Cells = cells
		} else {
			res.Totals = append(res.Totals, cells...)
		}
	}
	slices.SortFunc(res.Totals, func(a, b cube.Cell) int { return slices.Compare(a.Keys, b.Keys) })
	return res
}

// TestAggregateMatchesBruteForce compares the engine with a person-by-person count over
// random people, for groupings of every kind: single-valued, derived (regions),
// multi-valued, with filters and year ranges, cells and every marginal total.
func TestAggregateMatchesBruteForce(t *testing.T) {
	t.Parallel()
	for _, reduced := range []bool{false, true} {
		t.Run(fmt.Sprint("reduced=", reduced), func(t *testing.T) {
			t.Parallel()
			matchesBruteForce(t, reduced)
		})
	}
}

// matchesBruteForce is TestAggregateMatchesBruteForce with the dense path, or with the reduced
// table alone.
func matchesBruteForce(t *testing.T, reduced bool) {
	r := rand.New(rand.NewPCG(1, 2))
	people := randomPeople(r, 3000)
	c := cube.New(regionOf)
	if reduced {
		cube.ReducedOnly(c)
	}
	rows := rollup(people)
	// Applied in two halves, the second upserting some rows of the first with their final
	// counts, as the loader's incremental refreshes do.
	half := rows[:len(rows)/2]
	early := make([]cube.Row, len(half))
	for i, row := range half {
		row.Persons = 1
		early[i] = row
	}
	c.Apply(early)
	c.Apply(rows)
	if c.Len() != len(rows) {
		t.Fatalf("Len = %d, want %d", c.Len(), len(rows))
	}
	for _, q := range []cube.Query{
		{Measure: "PERSONS_RETURNED"},
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Sex}},
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Sex, cube.HostRegion, cube.ReturnRegion}},
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Vulnerability}},
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Vulnerability, cube.ExploitationType, cube.Sex}},
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Year, cube.Nationality, cube.ReturnCountry, cube.AgeBand}},
		{Measure: "CASES_REGISTERED", GroupBy: []cube.Dim{cube.HostCountry, cube.Vulnerability},
			Filter: map[cube.Dim][]string{cube.HostRegion: {"EEA"}, cube.Programme: {"AVRR"}}, YearFrom: 2016},
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.ReturnRegion},
			Filter: map[cube.Dim][]string{cube.ReturnCountry: {"IRQ", "BGD"}}, YearTo: 2016},
		{Measure: "REFERRALS", GroupBy: []cube.Dim{cube.ReferralStatus, cube.PartnerType}},
		{Measure: "REFERRALS", GroupBy: []cube.Dim{cube.ReferralDirection, cube.ReferralStatus, cube.Sex, cube.Vulnerability},
			Filter: map[cube.Dim][]string{cube.PartnerType: {"NGO", "GOVERNMENT"}, cube.HostRegion: {"EEA", "MENA"}}},
		{Measure: "REFERRALS", GroupBy: []cube.Dim{cube.HostRegion, cube.PartnerType}, YearFrom: 2016, YearTo: 2016},
		{Measure: "NOTHING", GroupBy: []cube.Dim{cube.Sex}},
	} {
		t.Run(fmt.Sprint(q.Measure, q.GroupBy, len(q.Filter)), func(t *testing.T) {
			got, err := c.Aggregate(q)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(people, q)
			if q.Measure == "NOTHING" {
				want.Totals = []cube.Cell{{Keys: []string{""}}}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMultiValuedTotalsCountPersonsOnce: a person with two vulnerabilities counts under each,
// but once in the total.
func TestMultiValuedTotalsCountPersonsOnce(t *testing.T) {
	t.Parallel()
	c := cube.New(regionOf)
	c.Apply([]cube.Row{
		{Measure: "M", Year: 2015, Vulnerabilities: []string{"A", "B"}, Persons: 3},
		{Measure: "M", Year: 2015, Persons: 2},
	})
	got, err := c.Aggregate(cube.Query{Measure: "M", GroupBy: []cube.Dim{cube.Vulnerability}})
	if err != nil {
		t.Fatal(err)
	}
	want := cube.Result{
		Cells:  []cube.Cell{{Keys: []string{"A"}, Count: 3}, {Keys: []string{"B"}, Count: 3}, {Keys: []string{cube.None}, Count: 2}},
		Totals: []cube.Cell{{Keys: []string{""}, Count: 5}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRefusesWhatItCannotAnswer(t *testing.T) {
	t.Parallel()
	c := cube.New(regionOf)
	c.Apply([]cube.Row{{Measure: "M", Year: 2015, Persons: 1}})
	for _, q := range []cube.Query{
		{Measure: "M", GroupBy: []cube.Dim{cube.Year, cube.Sex, cube.AgeBand, cube.Nationality, cube.HostCountry}},
		{Measure: "M", Filter: map[cube.Dim][]string{cube.Vulnerability: {"A"}}},
		{Measure: "M", GroupBy: []cube.Dim{cube.Dim(99)}},
	} {
		if _, err := c.Aggregate(q); err == nil {
			t.Errorf("Aggregate(%v) = nil error", q)
		}
	}
}

// TestGrainsStayExact: the coarser grains move by the difference of each rollup row Apply
// changes, up or down, so that queries read from them agree with a person-by-person count
// after counts were replaced many times over (the loader upserts absolute counts).
func TestGrainsStayExact(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	people := randomPeople(r, 2000)
	rows := rollup(people)
	c := cube.New(regionOf)
	for range 3 {
		wrong := make([]cube.Row, len(rows))
		for i, row := range rows {
			row.Persons = int64(r.IntN(50)) // above or below the final count, or zero
			wrong[i] = row
		}
		r.Shuffle(len(wrong), func(i, j int) { wrong[i], wrong[j] = wrong[j], wrong[i] })
		if err := c.Apply(wrong); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Apply(rows); err != nil {
		t.Fatal(err)
	}
	for _, q := range []cube.Query{
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Sex, cube.Year}},                           // regions
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.HostRegion, cube.Vulnerability}},           // regions
		{Measure: "CASES_REGISTERED", GroupBy: []cube.Dim{cube.Nationality, cube.ReturnRegion}},           // nationality
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.HostCountry, cube.ExploitationType}},       // host country
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.ReturnCountry}, YearFrom: 2016},            // return country
		{Measure: "PERSONS_RETURNED", Filter: map[cube.Dim][]string{cube.ReturnRegion: {"APAC", "MENA"}}}, // regions
		{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Nationality, cube.HostCountry}},            // rollup
	} {
		got, err := c.Aggregate(q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(bruteForce(people, q), got); diff != "" {
			t.Errorf("%v %v: (-want +got):\n%s", q.GroupBy, q.Filter, diff)
		}
	}
}

// TestTooManyValues: a dimension holds at most 65,535 values; a row beyond is refused with
// ErrTooManyValues and the others are applied.
func TestTooManyValues(t *testing.T) {
	t.Parallel()
	c := cube.New(regionOf)
	rows := make([]cube.Row, 0xffff+1)
	for i := range rows {
		rows[i] = cube.Row{Measure: "M", Year: 2015, Sex: strconv.Itoa(i), Persons: 1}
	}
	rows = append(rows, cube.Row{Measure: "M", Year: 2015, Sex: "0", Persons: 2})
	if err := c.Apply(rows); !errors.Is(err, cube.ErrTooManyValues) {
		t.Fatalf("Apply = %v, want ErrTooManyValues", err)
	}
	if c.Len() != 0xffff {
		t.Errorf("Len = %d, want 65535", c.Len())
	}
}
