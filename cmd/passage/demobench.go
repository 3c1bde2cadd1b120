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
	"time"

	"google.golang.org/grpc/status"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// benchDims are the dimensions each measure may be grouped by (as the service accepts them:
// a return country only where people returned, assistance type for persons assisted,
// exploitation type for victims identified).
var benchDims = func() map[analyticsv1.Measure][]analyticsv1.Dimension {
	person := []analyticsv1.Dimension{
		analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_PROGRAMME, analyticsv1.Dimension_DIMENSION_SEX,
		analyticsv1.Dimension_DIMENSION_AGE_BAND, analyticsv1.Dimension_DIMENSION_NATIONALITY,
		analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, analyticsv1.Dimension_DIMENSION_HOST_REGION,
		analyticsv1.Dimension_DIMENSION_VULNERABILITY,
	}
	with := func(extra ...analyticsv1.Dimension) []analyticsv1.Dimension {
		return append(slices.Clone(person), extra...)
	}
	ret := []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, analyticsv1.Dimension_DIMENSION_RETURN_REGION}
	return map[analyticsv1.Measure][]analyticsv1.Dimension{
		analyticsv1.Measure_MEASURE_CASES_REGISTERED:       with(),
		analyticsv1.Measure_MEASURE_PERSONS_RETURNED:       with(ret...),
		analyticsv1.Measure_MEASURE_PERSONS_ASSISTED:       with(append(ret, analyticsv1.Dimension_DIMENSION_ASSISTANCE_TYPE)...),
		analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED:     with(analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE),
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED: with(),
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED: with(),
	}
}()

// benchRequest draws a random Aggregate: a measure, 0 to maxDims distinct dimensions that
// make sense for it, and, one time in two, a filter (a year range, a programme, a host
// region), as an analyst's questions vary.
func benchRequest(r *rand.Rand, maxDims int) *analyticsv1.AggregateRequest {
	measures := []analyticsv1.Measure{
		analyticsv1.Measure_MEASURE_CASES_REGISTERED, analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		analyticsv1.Measure_MEASURE_PERSONS_ASSISTED, analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED, analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED,
	}
	m := measures[r.IntN(len(measures))]
	dims := slices.Clone(benchDims[m])
	r.Shuffle(len(dims), func(i, j int) { dims[i], dims[j] = dims[j], dims[i] })
	req := &analyticsv1.AggregateRequest{Measure: m, GroupBy: dims[:r.IntN(maxDims+1)]}
	if r.IntN(2) == 0 {
		f := &analyticsv1.Filter{}
		switch r.IntN(3) {
		case 0:
			from := int32(2010 + r.IntN(16))
			f.YearFrom, f.YearTo = from, min(from+int32(r.IntN(4)), 2025)
		case 1:
			f.Programmes = []commonv1.Programme{commonv1.Programme(1 + r.IntN(3))}
		case 2:
			f.HostRegions = []string{[]string{"EEA", "MENA", "APAC", "SEEECA"}[r.IntN(4)]}
		}
		req.Filter = f
	}
	return req
}

// benchResult is what `passage demo bench` reports.
type benchResult struct {
	Calls      int            `json:"calls"`
	Errors     map[string]int `json:"errors,omitempty"`
	Seconds    float64        `json:"seconds"`
	PerSecond  float64        `json:"callsPerSecond"`
	P50Ms      float64        `json:"p50Ms"`
	P95Ms      float64        `json:"p95Ms"`
	P99Ms      float64        `json:"p99Ms"`
	MaxMs      float64        `json:"maxMs"`
	ByDims     map[int]string `json:"p95ByDimensions"`
	ServerRSS  string         `json:"serverRss,omitempty"`
	ServerPeak string         `json:"serverPeakRss,omitempty"`
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
	for c := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(*seed, uint64(c)))
			for ctx.Err() == nil {
				req := benchRequest(r, *maxDims)
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
	if res.ServerRSS != "" {
		fmt.Fprintf(stdout, "server memory: %s resident, %s at most\n", res.ServerRSS, res.ServerPeak)
	}
	if len(errs) > 0 {
		fmt.Fprintf(stdout, "errors: %v\n", errs)
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
