package disclosure

import (
	"fmt"
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

func BenchmarkSuppress50k(b *testing.B) {
	t := benchTable()
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
