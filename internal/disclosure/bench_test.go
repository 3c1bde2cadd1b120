package disclosure

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time: on a shared machine the wall time of
// a benchmark says more about the neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchTable is a 3-dimension table of about 50,000 cells shaped like HQ's largest:
// nationality (200) by host country (100) by sex (3), counts skewed so that many cells are
// small (most nationalities are rare in most host countries).
func benchTable() Table {
	r := rand.New(rand.NewPCG(50, 0))
	t := Table{Dimensions: 3}
	for n := 0; n < 200; n++ {
		for h := 0; h < 100; h++ {
			weight := 4000 / float64((n+1)*(h+1)) // Zipf in both
			for s, share := range []float64{0.74, 0.25, 0.01} {
				c := int64(r.ExpFloat64() * weight * share * 3)
				if c == 0 && r.IntN(5) > 0 {
					c = 1 + int64(r.IntN(3)) // the long tail of ones and twos
				}
				if c == 0 {
					continue
				}
				t.Cells = append(t.Cells, Cell{Keys: []string{fmt.Sprintf("N%03d", n), fmt.Sprintf("H%03d", h), fmt.Sprint("S", s)}, Count: c})
			}
		}
	}
	return t
}

func BenchmarkSuppress50k(b *testing.B) { benchSuppress(b, benchTable()) }

func benchSuppress(b *testing.B, t Table) {
	var suppressed, primary int
	start := cpuTime()
	for b.Loop() {
		rel, err := Suppress(t, DefaultK)
		if err != nil {
			b.Fatal(err)
		}
		suppressed = 0
		for _, r := range rel {
			if r.Suppressed {
				suppressed++
			}
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
	for _, c := range t.Cells {
		if c.Count >= 1 && c.Count < DefaultK {
			primary++
		}
	}
	b.ReportMetric(float64(len(t.Cells)), "cells")
	b.ReportMetric(float64(primary), "small-cells")
	b.ReportMetric(float64(suppressed), "suppressed")
}

// benchTable10M is the same grid drawn from ten million persons (nationality and host
// country Zipf-distributed, 76% men as in the seed): the shape of a three-dimension
// Aggregate over the loaded data set, with fewer small cells than benchTable.
func benchTable10M() Table {
	r := rand.New(rand.NewPCG(10, 0))
	zipf := func(n int, s float64) []float64 {
		w := make([]float64, n)
		var sum float64
		for i := range w {
			w[i] = 1 / math.Pow(float64(i+1), s)
			sum += w[i]
		}
		for i := range w {
			w[i] /= sum
		}
		return w
	}
	nat, host := zipf(200, 1.3), zipf(100, 1.2)
	t := Table{Dimensions: 3}
	for n := range nat {
		for h := range host {
			for s, share := range []float64{0.76, 0.24} {
				mean := 1e7 * nat[n] * host[h] * share
				c := poisson(r, mean)
				if c == 0 {
					continue
				}
				t.Cells = append(t.Cells, Cell{Keys: []string{fmt.Sprintf("N%03d", n), fmt.Sprintf("H%03d", h), fmt.Sprint("S", s)}, Count: c})
			}
		}
	}
	return t
}

func poisson(r *rand.Rand, mean float64) int64 {
	if mean > 50 {
		return max(0, int64(math.Round(mean+r.NormFloat64()*math.Sqrt(mean))))
	}
	l, k, p := math.Exp(-mean), int64(0), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func BenchmarkSuppress10MShaped(b *testing.B) { benchSuppress(b, benchTable10M()) }
