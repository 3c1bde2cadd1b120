package disclosure

import (
	"cmp"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/services/analytics/bulk"
	"github.com/passage-cm/passage/services/analytics/projector"
)

// benchBlock is one block's cover of persons returned, with its name (year and programme).
type benchBlock struct {
	name  string
	cover Cover
}

// bulkCovers are the covers HQ analytics protects for the measure PERSONS_RETURNED (host
// country by return country by sex, both countries grouped into regions), one per block
// (year, programme), of BENCH_PERSONS (default one million) persons drawn by `passage demo
// load`'s generator (seed 1), largest first. Only the facts of that measure are counted,
// as services/analytics builds its cube and its covers from them.
var bulkCovers = sync.OnceValues(func() ([]benchBlock, error) {
	persons := int64(1_000_000)
	if v := os.Getenv("BENCH_PERSONS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		persons = n
	}
	g, err := bulk.NewGenerator(bulk.DefaultConfig(1))
	if err != nil {
		return nil, err
	}
	type block struct {
		year      int16
		programme string
	}
	counts := map[block]map[[3]string]int64{}
	for n := int64(0); n*bulk.ChunkSize < persons; n++ {
		if _, err := g.Chunk(n, persons, 0, func(f *bulk.Fact) error {
			if f.Measure != projector.PersonsReturned {
				return nil
			}
			b := block{f.Year, f.Programme}
			if counts[b] == nil {
				counts[b] = map[[3]string]int64{}
			}
			counts[b][[3]string{f.HostCountry, cmp.Or(f.ReturnCountry, "NONE"), f.Sex}]++
			return nil
		}); err != nil {
			return nil, err
		}
	}
	var out []benchBlock
	for b, cells := range counts {
		c := Cover{Dimensions: []Dimension{{GroupOf: benchRegionOf}, {GroupOf: benchRegionOf}, {}}}
		for keys, n := range cells {
			c.Cells = append(c.Cells, Cell{Keys: []string{keys[0], keys[1], keys[2]}, Count: n})
			c.Persons += n
		}
		slices.SortFunc(c.Cells, func(x, y Cell) int { return slices.Compare(x.Keys, y.Keys) })
		out = append(out, benchBlock{name: strconv.Itoa(int(b.year)) + "-" + b.programme, cover: c})
	}
	slices.SortFunc(out, func(x, y benchBlock) int {
		return cmp.Or(cmp.Compare(len(y.cover.Cells), len(x.cover.Cells)), strings.Compare(x.name, y.name))
	})
	return out, nil
})

// benchRegionOf groups countries as services/analytics does: the region's code, UNKNOWN
// for a country outside every region, NONE for no country.
func benchRegionOf(country string) (string, bool) {
	if country == "NONE" {
		return "NONE", true
	}
	if r, ok := region.CodeOf(country); ok {
		return r, true
	}
	return "UNKNOWN", true
}

// withheldShare is the share of the persons counted by a release's entries (every level of
// every dimension) that its withheld entries count, the small ones among them: what the
// protection costs HQ's figures. Computed from the cover itself, through the public API.
func withheldShare(c Cover, r *Release) (share float64, withheld, small int) {
	cells := map[string]int64{}
	for _, cell := range c.Cells {
		cells[strings.Join(cell.Keys, "|")] += cell.Count
	}
	truth := entriesOf(c, cells)
	var all, hidden int64
	for _, n := range truth {
		all += n
	}
	for _, keys := range r.Withheld() {
		hidden += truth[keysString(keys)]
		withheld++
	}
	for _, n := range truth {
		if n > 0 && n < r.K() {
			small++
		}
	}
	return float64(hidden) / float64(all), withheld, small
}

// BenchmarkProtect protects the PERSONS_RETURNED covers of the bulk data set: "largest" is
// the largest block's cover (what one query waits for when its block has no release yet),
// "blocks" every block's in turn (what keepReleases computes after a load). Each reports
// the CPU per Protect call, the cells, the small and withheld entries, and the share of the
// persons counted by all entries that the withheld entries hold (withheld-‰).
// Run with
//
//	go test -run '^$' -bench Protect -benchmem ./internal/disclosure/
func BenchmarkProtect(b *testing.B) {
	blocks, err := bulkCovers()
	if err != nil {
		b.Fatal(err)
	}
	if len(blocks) == 0 {
		b.Fatal("no block")
	}
	run := func(b *testing.B, covers []benchBlock) {
		var last []*Release
		start := cpuTime()
		for b.Loop() {
			last = last[:0]
			for _, bl := range covers {
				r, err := Protect(bl.cover, DefaultK, nil)
				if err != nil {
					b.Fatalf("%s: %v", bl.name, err)
				}
				last = append(last, r)
			}
		}
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
		b.StopTimer()
		var cells, withheld, small int
		var share float64
		for i, bl := range covers {
			s, w, sm := withheldShare(bl.cover, last[i])
			share += s
			withheld += w
			small += sm
			cells += len(bl.cover.Cells)
		}
		b.ReportMetric(float64(cells), "cells")
		b.ReportMetric(float64(small), "small")
		b.ReportMetric(float64(withheld), "withheld")
		b.ReportMetric(1000*share/float64(len(covers)), "withheld-‰")
	}
	b.Run("largest", func(b *testing.B) { run(b, blocks[:1]) })
	b.Run("blocks", func(b *testing.B) { run(b, blocks) })
}
