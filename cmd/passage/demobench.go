package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/demo/aggbench"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// benchResult is what `passage demo bench` reports.
type benchResult struct {
	Calls     int            `json:"calls"`
	Errors    map[string]int `json:"errors,omitempty"`
	Seconds   float64        `json:"seconds"`
	PerSecond float64        `json:"callsPerSecond"`
	P50Ms     float64        `json:"p50Ms"`
	P95Ms     float64        `json:"p95Ms"`
	P99Ms     float64        `json:"p99Ms"`
	MaxMs     float64        `json:"maxMs"`
	ByDims    map[int]string `json:"p95ByDimensions"`
	// ServerCPUMs is the server's CPU time (user and system) per measured call, from
	// /proc: on a shared machine it says more about the code than the latency does.
	ServerCPUMs float64 `json:"serverCpuMsPerCall,omitempty"`
	ServerRSS   string  `json:"serverRss,omitempty"`
	ServerPeak  string  `json:"serverPeakRss,omitempty"`
}

const demoBenchUsage = `usage: passage demo bench [--concurrency N] [--duration D] [--max-dims 3] [--server-pid PID] [--json]

Sends random Aggregate calls (a random measure, 0 to --max-dims dimensions that make sense
for it, a filter one time in two) from N clients in closed loops to a running server, with
the token of an HQ analyst, and reports the latency percentiles (overall and by number of
dimensions) and, with --server-pid, the server's memory. Load data first with
"passage demo load".
`

func demoBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, o := newFlagSet("demo", "bench", "[flags]", stderr, getenv)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoBenchUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	concurrency := fs.Int("concurrency", 4, "clients, each calling in a closed loop")
	duration := fs.Duration("duration", 30*time.Second, "time to measure")
	warmup := fs.Duration("warmup", 3*time.Second, "time to run before measuring")
	maxDims := fs.Int("max-dims", 3, "most dimensions a call groups by")
	seed := fs.Uint64("seed", 1, "random `SEED` of the calls")
	pid := fs.Int("server-pid", 0, "the server's `PID`, to report its memory (Linux /proc)")
	waitLoaded := fs.Duration("wait-loaded", 0, "first wait up to this long until the server's counts stop growing (its in-memory copy of the rollup loaded)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("demo bench: unexpected argument %q", pos[0])
	}
	if *concurrency < 1 || *duration <= 0 || *warmup < 0 || *maxDims < 0 || *maxDims > 4 {
		return errors.New("demo bench: --concurrency >= 1, --duration > 0, --warmup >= 0, --max-dims 0 to 4")
	}
	if err := o.resolve(given, getenv); err != nil {
		return err
	}
	conn, err := dial(*o)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := analyticsv1.NewAnalyticsServiceClient(conn)
	if *waitLoaded > 0 {
		if err := waitUntilLoaded(ctx, client, *waitLoaded, stderr); err != nil {
			return err
		}
	}

	type sample struct {
		dims int
		d    time.Duration
	}
	var (
		mu      sync.Mutex
		samples []sample
		errs    = map[string]int{}
		wg      sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(*warmup), start.Add(*warmup+*duration)
	// The server's CPU time over the measured window, read when it opens and closes.
	var cpuFrom, cpuTo atomic.Int64
	if *pid > 0 {
		cpuTimer := time.AfterFunc(*warmup, func() { cpuFrom.Store(int64(procCPU(*pid))) })
		defer cpuTimer.Stop()
		endTimer := time.AfterFunc(*warmup+*duration, func() { cpuTo.Store(int64(procCPU(*pid))) })
		defer endTimer.Stop()
	}
	for c := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(*seed, uint64(c)))
			for ctx.Err() == nil {
				req := aggbench.Request(r, *maxDims)
				callCtx, cancel := context.WithTimeout(ctx, o.timeout)
				t0 := time.Now()
				_, err := client.Aggregate(callCtx, req)
				d := time.Since(t0)
				cancel()
				if t0.After(end) {
					return
				}
				if t0.Before(measureFrom) {
					continue
				}
				mu.Lock()
				if err != nil {
					errs[status.Code(err).String()]++
				} else {
					samples = append(samples, sample{len(req.GroupBy), d})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	res := benchResult{Calls: len(samples), Seconds: duration.Seconds(), ByDims: map[int]string{}}
	if len(errs) > 0 {
		res.Errors = errs
	}
	res.PerSecond = float64(len(samples)) / duration.Seconds()
	all := make([]time.Duration, 0, len(samples))
	by := map[int][]time.Duration{}
	for _, s := range samples {
		all = append(all, s.d)
		by[s.dims] = append(by[s.dims], s.d)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	slices.Sort(all)
	res.P50Ms, res.P95Ms, res.P99Ms = ms(percentile(all, 50)), ms(percentile(all, 95)), ms(percentile(all, 99))
	if len(all) > 0 {
		res.MaxMs = ms(all[len(all)-1])
	}
	for n, ds := range by {
		slices.Sort(ds)
		res.ByDims[n] = fmt.Sprintf("%.1f ms (%d calls)", ms(percentile(ds, 95)), len(ds))
	}
	if *pid > 0 {
		res.ServerRSS, res.ServerPeak = procMemory(*pid)
		if from, to := cpuFrom.Load(), cpuTo.Load(); to > from && from > 0 && len(samples) > 0 {
			res.ServerCPUMs = float64(time.Duration(to-from)/time.Microsecond) / 1000 / float64(len(samples))
		}
	}
	if o.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "%d calls in %.0f s (%.0f/s) from %d clients, at most %d dimensions\n", res.Calls, res.Seconds, res.PerSecond, *concurrency, *maxDims)
	fmt.Fprintf(stdout, "latency: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", res.P50Ms, res.P95Ms, res.P99Ms, res.MaxMs)
	for n := 0; n <= *maxDims; n++ {
		if v, ok := res.ByDims[n]; ok {
			fmt.Fprintf(stdout, "  %d dimension(s): p95 %s\n", n, v)
		}
	}
	if res.ServerCPUMs > 0 {
		fmt.Fprintf(stdout, "server CPU: %.1f ms per call\n", res.ServerCPUMs)
	}
	if res.ServerRSS != "" {
		fmt.Fprintf(stdout, "server memory: %s resident, %s at most\n", res.ServerRSS, res.ServerPeak)
	}
	if len(errs) > 0 {
		fmt.Fprintf(stdout, "errors: %s\n", formatCounts(errs))
		return errors.New("demo bench: calls failed")
	}
	return nil
}

// waitUntilLoaded polls the grand total of persons returned until it is positive and the
// same twice in a row a second apart. (The server reads rows below the cluster's oldest
// running transaction: a long transaction anywhere in the cluster holds its copy back.)
func waitUntilLoaded(ctx context.Context, client analyticsv1.AnalyticsServiceClient, limit time.Duration, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var (
		last    int64 = -1
		lastErr error
	)
	for {
		resp, err := client.Aggregate(ctx, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED})
		lastErr = err
		if err == nil && len(resp.GetCells()) == 1 {
			n := resp.GetCells()[0].GetCount()
			if n > 0 && n == last {
				fmt.Fprintf(stderr, "demo bench: the server counts %d persons returned\n", n)
				return nil
			}
			last = n
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("demo bench: waiting for the server's counts: %s", status.Code(lastErr))
			}
			return fmt.Errorf("demo bench: the server counted %d persons returned, still changing or none, after %s", last, limit)
		case <-time.After(time.Second):
		}
	}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ), 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// procCPU reads a process's user and system CPU time from /proc/PID/stat; 0 when unknown.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: fields are counted after its ")".
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// procMemory reads VmRSS and VmHWM of a process from /proc.
func procMemory(pid int) (rss, peak string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "VmRSS":
			rss = strings.TrimSpace(v)
		case "VmHWM":
			peak = strings.TrimSpace(v)
		}
	}
	return rss, peak
}
