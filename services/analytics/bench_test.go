package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/demo/aggbench"
	"github.com/passage-cm/passage/internal/region"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	"github.com/passage-cm/passage/services/analytics/bulk"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// bulkCube is the cube of BENCH_PERSONS (default ten million) persons made by `passage demo
// load`'s generator (seed 1): the same rollup the server holds after `make bench-analytics`,
// built in process (about a minute of CPU at ten million) and once per test binary.
var bulkCube = sync.OnceValues(func() (*cube.Cube, error) {
	persons := int64(10_000_000)
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
	counts := map[bulk.RollupKey]int64{}
	for n := int64(0); n*bulk.ChunkSize < persons; n++ {
		if _, err := g.Chunk(n, persons, 0, func(f *bulk.Fact) error { counts[f.Key()]++; return nil }); err != nil {
			return nil, err
		}
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	rows := make([]cube.Row, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, cube.Row{Measure: k.Measure, Year: int(k.Year), Programme: k.Programme, Sex: k.Sex,
			AgeBand: k.AgeBand, Nationality: k.Nationality, HostCountry: k.HostCountry, ReturnCountry: k.ReturnCountry,
			Vulnerabilities: split(k.Vulnerabilities), AssistanceType: k.AssistanceType,
			ExploitationTypes: split(k.ExploitationTypes), Persons: n})
	}
	c := cube.New(region.CodeOf)
	c.Apply(rows)
	return c, nil
})

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAggregateBulk answers `passage demo bench`'s random calls (aggbench.Request, same
// seed) in process, as the handler does minus authentication: parse, the answer from the
// protected releases, and the response marshalled as gRPC would. The releases are computed
// first, as the server does at start (warm-s, and their heap beside the cube's). It reports
// the percentiles, overall and by number of dimensions, and the CPU per call; BENCH_SLOW=1
// also prints, to standard error, every call over 30 ms (measure, dimensions, filter, cells).
// Run with
//
//	go test -run '^$' -bench AggregateBulk -benchtime 2000x ./services/analytics/
func BenchmarkAggregateBulk(b *testing.B) {
	c, err := bulkCube()
	if err != nil {
		b.Fatal(err)
	}
	s := &Service{cube: c, logger: slog.New(slog.DiscardHandler)}
	for name, rows := range c.GrainRows() {
		b.Logf("grain %s: %d rows", name, rows)
	}
	// The protected releases, as keepReleases computes them when the server starts: queries
	// are timed once they are there, and the time and memory they take are reported.
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	cubeMiB := heap()
	warm := time.Now()
	s.warmReleases(context.Background())
	warmS := time.Since(warm).Seconds()
	releasesMiB := heap() - cubeMiB
	r := rand.New(rand.NewPCG(1, 0))
	var lat [4][]time.Duration
	var all []time.Duration
	var cells int
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		req := aggbench.Request(r, 3)
		start := time.Now()
		q, err := parseAggregate(req.GetMeasure(), req.GetGroupBy(), req.GetFilter())
		if err != nil {
			b.Fatal(err)
		}
		resp, err := s.releaseSuppressed(q)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := proto.Marshal(resp); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if os.Getenv("BENCH_SLOW") != "" && d > 30*time.Millisecond {
			// To standard error: the testing package keeps only the first lines a benchmark logs.
			fmt.Fprintf(os.Stderr, "%6.1f ms %s by %v filter %v: %d cells\n", float64(d.Microseconds())/1000, q.measure, q.query.GroupBy, req.GetFilter(), len(resp.Cells)+len(resp.Totals))
		}
		cells += len(resp.Cells) + len(resp.Totals)
		lat[len(req.GroupBy)] = append(lat[len(req.GroupBy)], d)
		all = append(all, d)
	}
	// Freshness: a change in the largest block (2025, AVRR: one row's count set to one), then
	// the next question about it, which computes the block's release of its table afresh.
	fresh := time.Now()
	row := cube.Row{Measure: "PERSONS_RETURNED", Year: 2025, Programme: "AVRR", Sex: "FEMALE", AgeBand: "30_38",
		Nationality: "IRQ", HostCountry: "DEU", ReturnCountry: "IRQ", Persons: 1}
	if err := s.cube.Apply([]cube.Row{row}); err != nil {
		b.Fatal(err)
	}
	fq, err := parseAggregate(analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		[]analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_HOST_COUNTRY}, &analyticsv1.Filter{YearFrom: 2025, YearTo: 2025})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.releaseSuppressed(fq); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(fresh).Microseconds())/1000, "fresh-ms")
	b.ReportMetric(warmS, "warm-s")
	b.ReportMetric(cubeMiB, "cube-MiB")
	b.ReportMetric(releasesMiB, "releases-MiB")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(cells)/float64(b.N), "cells/op")
	p := func(ds []time.Duration, q float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		i := sort.Search(len(ds), func(i int) bool { return float64(i+1)/float64(len(ds)) >= q })
		return float64(ds[i].Microseconds()) / 1000
	}
	b.ReportMetric(p(all, 0.50), "p50-ms")
	b.ReportMetric(p(all, 0.95), "p95-ms")
	b.ReportMetric(p(all, 0.99), "p99-ms")
	for n, ds := range lat {
		b.ReportMetric(p(ds, 0.95), "p95-"+strconv.Itoa(n)+"dims-ms")
	}
}
