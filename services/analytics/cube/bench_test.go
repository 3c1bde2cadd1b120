package cube_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// tenMillion is the cube of ten million persons returned (and their six million principals'
// registrations), built once for the benchmarks.
var tenMillion = sync.OnceValues(func() (*cube.Cube, int) {
	return synthetic(10_000_000)
})

// synthetic builds the rollup of n persons returned with skewed, seed-like distributions:
// Zipf-distributed nationalities and host countries over every accepted country, most
// returning to their nationality, one in six with a vulnerability, a tenth of a
// registration's persons in each of ten years. The rollup is what the projector would
// maintain for them; its size, not n, is what a query scans.
func synthetic(n int) (*cube.Cube, int) {
	r := rand.New(rand.NewPCG(2015, 69000))
	countries := country.All()
	r.Shuffle(len(countries), func(i, j int) { countries[i], countries[j] = countries[j], countries[i] })
	natZipf := rand.NewZipf(r, 1.3, 4, uint64(len(countries)-1))
	hostZipf := rand.NewZipf(r, 1.6, 2, 98)
	// Weighted picks go through an index table, so that each value has one index (the rollup's
	// key is by value: two indexes of one value would be two rows of one key).
	sexes := []string{"MALE", "FEMALE", "OTHER", "UNKNOWN"}
	sexPick := []uint16{0, 0, 0, 1, 2, 3}
	bands := []string{"0_8", "9_17", "18_20", "21_23", "24_26", "27_29", "30_38", "39_47", "48_PLUS", "UNKNOWN"}
	vulnSets := [][]string{{"MEDICAL_NEEDS"}, {"UNACCOMPANIED_MIGRANT_CHILD"}, {"OLDER_PERSON"},
		{"MEDICAL_NEEDS", "OLDER_PERSON"}, {"VICTIM_OF_TRAFFICKING"}, {"SINGLE_PARENT"}, {"DISABILITY", "MEDICAL_NEEDS"}}
	programmes := []string{"AVRR", "HASM"}
	programmePick := []uint16{0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	type k struct {
		measure, year, programme, sex, band, nat, host, ret, vuln uint16
	}
	counts := map[k]int64{}
	for i := range n {
		nat := uint16(natZipf.Uint64())
		ret := nat
		if r.IntN(10) == 0 {
			ret = uint16(r.IntN(len(countries)))
		}
		vuln := uint16(0)
		if r.IntN(6) == 0 {
			vuln = uint16(1 + r.IntN(len(vulnSets)))
		}
		key := k{measure: 0, year: uint16(r.IntN(10)), programme: programmePick[r.IntN(len(programmePick))], sex: sexPick[r.IntN(len(sexPick))],
			band: uint16(r.IntN(len(bands))), nat: nat, host: uint16(hostZipf.Uint64()), ret: ret, vuln: vuln}
		counts[key]++
		if i%5 < 3 { // a principal: their registration
			key.measure, key.ret = 1, 0xffff
			counts[key]++
		}
	}
	rows := make([]cube.Row, 0, len(counts))
	for key, c := range counts {
		row := cube.Row{Measure: "PERSONS_RETURNED", Year: 2015 + int(key.year), Programme: programmes[key.programme],
			Sex: sexes[key.sex], AgeBand: bands[key.band], Nationality: countries[key.nat], HostCountry: countries[key.host],
			Persons: c}
		if key.measure == 1 {
			row.Measure = "CASES_REGISTERED"
		} else {
			row.ReturnCountry = countries[key.ret]
		}
		if key.vuln > 0 {
			row.Vulnerabilities = vulnSets[key.vuln-1]
		}
		rows = append(rows, row)
	}
	c := cube.New(region.CodeOf)
	c.Apply(rows)
	return c, len(rows)
}

// benchQueries are Aggregates over at most three dimensions, as HQ asks them.
var benchQueries = []cube.Query{
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Sex}},
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.HostRegion, cube.ReturnRegion, cube.Sex}},
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.HostCountry, cube.ReturnCountry, cube.Sex}},
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Nationality, cube.AgeBand, cube.Year}},
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Vulnerability, cube.ReturnRegion, cube.Year}},
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.ReturnCountry, cube.Vulnerability},
		Filter: map[cube.Dim][]string{cube.HostRegion: {"EEA"}}, YearFrom: 2015, YearTo: 2015},
	{Measure: "CASES_REGISTERED", GroupBy: []cube.Dim{cube.Programme, cube.HostCountry, cube.Sex}},
	{Measure: "PERSONS_RETURNED", GroupBy: []cube.Dim{cube.Nationality, cube.HostCountry, cube.ReturnCountry}},
}

// BenchmarkAggregate10M answers the queries above, in turn, over the rollup of ten million
// persons (built first, untimed), and reports the 50th and 95th percentile latencies of one
// call and the rollup's size. Run with
//
//	go test -run '^$' -bench Aggregate10M -benchtime 400x ./services/analytics/cube/
func BenchmarkAggregate10M(b *testing.B) {
	c, rows := tenMillion()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	defer b.ReportMetric(float64(rows), "rollup-rows") // after ResetTimer, which clears metrics
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := c.Aggregate(benchQueries[i%len(benchQueries)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	report(b, lat)
}

// BenchmarkAggregate10MParallel is the same with concurrent callers (GOMAXPROCS of them).
func BenchmarkAggregate10MParallel(b *testing.B) {
	c, _ := tenMillion()
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			if _, err := c.Aggregate(benchQueries[i%len(benchQueries)]); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
			i++
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration {
		return lat[sort.Search(len(lat), func(i int) bool { return float64(i+1)/float64(len(lat)) >= p })]
	}
	b.ReportMetric(float64(at(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(at(0.95).Microseconds())/1000, "p95-ms")
}

// TestSyntheticRollupIsConsistent keeps the benchmark's data honest on a small scale: every
// person is counted once in the grand total.
func TestSyntheticRollupIsConsistent(t *testing.T) {
	t.Parallel()
	c, _ := synthetic(20_000)
	res, err := c.Aggregate(cube.Query{Measure: "PERSONS_RETURNED"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Cells); got != "[{[] 20000}]" {
		t.Errorf("grand total %s, want 20000", got)
	}
}

// BenchmarkAggregate10MEach times each query of benchQueries on its own, with the number of
// cells it returns.
func BenchmarkAggregate10MEach(b *testing.B) {
	c, _ := tenMillion()
	for i, q := range benchQueries {
		b.Run(fmt.Sprint(i), func(b *testing.B) {
			var cells int
			for b.Loop() {
				res, err := c.Aggregate(q)
				if err != nil {
					b.Fatal(err)
				}
				cells = len(res.Cells) + len(res.Totals)
			}
			b.ReportMetric(float64(cells), "cells")
		})
	}
}
