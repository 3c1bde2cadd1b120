package cube

import (
	"fmt"
	"runtime"
	"testing"
)

// TestPickSmallestGrain: a query reads the smallest grain holding every dimension it groups
// or filters by, and the rollup when only the rollup holds them all.
func TestPickSmallestGrain(t *testing.T) {
	t.Parallel()
	c := New(func(string) (string, bool) { return "R", true })
	var rows []Row
	for i, nat := range []string{"AFG", "IRQ", "SYR", "NER"} {
		for j, host := range []string{"DEU", "FRA", "ITA"} {
			for _, ret := range []string{"AFG", "IRQ"} {
				rows = append(rows, Row{Measure: "M", Year: 2015 + i%2, Sex: []string{"MALE", "FEMALE"}[j%2],
					Nationality: nat, HostCountry: host, ReturnCountry: ret, Persons: 1})
			}
		}
	}
	if err := c.Apply(rows); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    Query
		want string
	}{
		{Query{GroupBy: []Dim{Sex, Year}}, "regions"},
		{Query{GroupBy: []Dim{HostRegion}, Filter: map[Dim][]string{ReturnRegion: {"R"}}}, "regions"},
		{Query{GroupBy: []Dim{Nationality, HostRegion}}, "nationality"},
		{Query{GroupBy: []Dim{Sex}, Filter: map[Dim][]string{HostCountry: {"DEU"}}}, "host country"},
		{Query{GroupBy: []Dim{ReturnCountry, HostRegion}}, "return country"},
		{Query{GroupBy: []Dim{Nationality, HostCountry}}, "rollup"},
		{Query{GroupBy: []Dim{HostCountry, ReturnCountry}}, "rollup"},
	} {
		if got := pick(c.parts[0], tt.q).grain.name; got != tt.want {
			t.Errorf("%v %v: grain %q, want %q", tt.q.GroupBy, tt.q.Filter, got, tt.want)
		}
	}
	if n := len(c.parts[0][1].persons); n != 4 {
		t.Errorf("the regions grain holds %d rows, want 4 (two years by two sexes, one region)", n)
	}
}

// TestGrainRows: the sizes reported are the grains' own.
func TestGrainRows(t *testing.T) {
	t.Parallel()
	c := New(func(string) (string, bool) { return "R", true })
	if err := c.Apply([]Row{
		{Measure: "M", Year: 2015, Nationality: "AFG", HostCountry: "DEU", Persons: 1},
		{Measure: "M", Year: 2015, Nationality: "IRQ", HostCountry: "FRA", Persons: 1},
	}); err != nil {
		t.Fatal(err)
	}
	got := c.GrainRows()
	want := map[string]int{"rollup": 2, "regions": 1, "nationality": 2, "host country": 2, "return country": 1}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("grain %s: %d rows, want %d (all: %v)", name, got[name], n, got)
		}
	}
}

// TestParallelScan: a part large enough to be scanned by several goroutines (and the race
// detector watching them) counts what a plain loop over its rows counts.
func TestParallelScan(t *testing.T) {
	t.Parallel()
	c := New(func(string) (string, bool) { return "R", true })
	const n = 3*minShare + 17
	rows := make([]Row, n)
	want := map[string]int64{}
	cells := map[string]bool{}
	var total int64
	for i := range rows {
		sex := []string{"MALE", "FEMALE", "OTHER"}[i%3]
		rows[i] = Row{Measure: "M", Year: 2000 + i%20, Sex: sex, Nationality: fmt.Sprintf("N%05d", i%60001),
			HostCountry: "DEU", Persons: int64(1 + i%7)}
		if rows[i].Year >= 2010 {
			want[sex] += rows[i].Persons
			total += rows[i].Persons
			cells[fmt.Sprint(rows[i].Nationality, rows[i].Year)] = true
		}
	}
	if err := c.Apply(rows); err != nil {
		t.Fatal(err)
	}
	if runtime.GOMAXPROCS(0) > 1 && len(c.parts[0][0].persons)/minShare < 2 {
		t.Fatalf("%d rows: one goroutine would scan them", len(c.parts[0][0].persons))
	}
	// By sex (the dense accumulator), and by nationality and year (a map: 60,001 × 20).
	res, err := c.Aggregate(Query{Measure: "M", GroupBy: []Dim{Sex}, YearFrom: 2010})
	if err != nil {
		t.Fatal(err)
	}
	for _, cell := range res.Cells {
		if cell.Count != want[cell.Keys[0]] {
			t.Errorf("%s: %d, want %d", cell.Keys[0], cell.Count, want[cell.Keys[0]])
		}
	}
	res, err = c.Aggregate(Query{Measure: "M", GroupBy: []Dim{Nationality, Year}, YearFrom: 2010})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, cell := range res.Cells {
		sum += cell.Count
	}
	if sum != total || len(res.Cells) != len(cells) {
		t.Errorf("%d cells adding up to %d, want %d adding up to %d", len(res.Cells), sum, len(cells), total)
	}
}

// TestRegionsMetInAnotherOrder: region ids are shared by host and return countries, so the
// return countries may meet the regions in another order than the host countries did; each
// region's countries still coarsen to a country of that region.
func TestRegionsMetInAnotherOrder(t *testing.T) {
	t.Parallel()
	regionOf := func(c string) (string, bool) {
		return map[string]string{"DEU": "EEA", "EGY": "MENA", "AFG": "APAC", "IRQ": "MENA", "FRA": "EEA"}[c], true
	}
	c := New(regionOf)
	if err := c.Apply([]Row{
		{Measure: "M", Year: 2015, HostCountry: "DEU", ReturnCountry: "AFG", Persons: 1},
		{Measure: "M", Year: 2015, HostCountry: "EGY", ReturnCountry: "AFG", Persons: 2},
		{Measure: "M", Year: 2015, HostCountry: "FRA", ReturnCountry: "IRQ", Persons: 4},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Aggregate(Query{Measure: "M", GroupBy: []Dim{ReturnRegion}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Cells); got != "[{[APAC] 3} {[MENA] 4}]" {
		t.Errorf("by return region %s, want [{[APAC] 3} {[MENA] 4}]", got)
	}
}
