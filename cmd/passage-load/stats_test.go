package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
)

func millis(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", millis(7), 99, 7 * time.Millisecond},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 100 is exact", hundred, 99, 99 * time.Millisecond},
		{"max", hundred, 100, 100 * time.Millisecond},
		{"p99 of 10 is the largest", millis(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p50 of 4 rounds up the rank", millis(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p51 of 4", millis(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{"tiny p", millis(1, 2, 3), 0.001, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewTally()
	a.Latencies = millis(1, 2)
	a.Measured[KindNew] = 2
	a.Errors[codes.Unavailable] = 1
	a.FirstError[codes.Unavailable] = "first"
	a.Last = t0.Add(time.Second)
	b := NewTally()
	b.Latencies = millis(3)
	b.Measured[KindNew] = 1
	b.Measured[KindReplay] = 1
	b.Errors[codes.Unavailable] = 2
	b.Errors[codes.Internal] = 1
	b.FirstError[codes.Unavailable] = "second"
	b.FirstError[codes.Internal] = "internal"
	b.Unflagged, b.WrongReplay = 1, 2
	b.Last = t0.Add(2 * time.Second)

	got := NewTally()
	got.Merge(a)
	got.Merge(b)
	want := &Tally{
		Latencies:  millis(1, 2, 3),
		Measured:   map[Kind]int{KindNew: 3, KindReplay: 1},
		Errors:     map[codes.Code]int{codes.Unavailable: 3, codes.Internal: 1},
		FirstError: map[codes.Code]string{codes.Unavailable: "first", codes.Internal: "internal"},
		Unflagged:  1, WrongReplay: 2,
		Last: t0.Add(2 * time.Second),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
}

func TestSummarise(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// tally is 100 calls over 2 s: 98 new or re-registering, 2 replays; latencies 1-100 ms.
	tally := func() *Tally {
		t := NewTally()
		for i := 100; i >= 1; i-- {
			t.Latencies = append(t.Latencies, time.Duration(i)*time.Millisecond)
		}
		t.Measured = map[Kind]int{KindNew: 95, KindReregister: 3, KindReplay: 2}
		t.Last = start.Add(2 * time.Second)
		return t
	}
	tests := []struct {
		name    string
		tally   func() *Tally
		targets Targets
		want    Summary
	}{
		{
			name:  "no targets",
			tally: tally,
			want: Summary{MeasuredS: 2, OK: 100, Cases: 98, Reregistrations: 3, Replays: 2, CasesPerSecond: 49, CallsPerSecond: 50,
				P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, Errors: map[string]int{}, Missed: []string{}, Passed: true},
		},
		{
			name:    "targets met",
			tally:   tally,
			targets: Targets{MinRate: 49, MaxP99: 99 * time.Millisecond},
			want: Summary{MeasuredS: 2, OK: 100, Cases: 98, Reregistrations: 3, Replays: 2, CasesPerSecond: 49, CallsPerSecond: 50,
				P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, Errors: map[string]int{}, MinRate: 49, MaxP99: 99,
				Missed: []string{}, Passed: true},
		},
		{
			name:    "both targets missed",
			tally:   tally,
			targets: Targets{MinRate: 70, MaxP99: 50 * time.Millisecond},
			want: Summary{MeasuredS: 2, OK: 100, Cases: 98, Reregistrations: 3, Replays: 2, CasesPerSecond: 49, CallsPerSecond: 50,
				P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, Errors: map[string]int{}, MinRate: 70, MaxP99: 50,
				Missed: []string{
					"rate: 49.0 cases/s is 30.0% below the target of 70 cases/s",
					"p99: 99.0 ms is 49.0 ms over the target of 50 ms",
				}},
		},
		{
			name: "an error fails the run",
			tally: func() *Tally {
				t := tally()
				t.Errors[codes.DeadlineExceeded] = 1
				return t
			},
			want: Summary{MeasuredS: 2, OK: 100, Cases: 98, Reregistrations: 3, Replays: 2, CasesPerSecond: 49, CallsPerSecond: 50,
				P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, Errors: map[string]int{"DeadlineExceeded": 1}, Missed: []string{}},
		},
		{
			name: "a failed check fails the run",
			tally: func() *Tally {
				t := tally()
				t.Unflagged = 1
				return t
			},
			want: Summary{MeasuredS: 2, OK: 100, Cases: 98, Reregistrations: 3, Replays: 2, CasesPerSecond: 49, CallsPerSecond: 50,
				P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100, Errors: map[string]int{}, Unflagged: 1, Missed: []string{}},
		},
		{
			name:    "nothing measured",
			tally:   NewTally,
			targets: Targets{MinRate: 1},
			want: Summary{Errors: map[string]int{}, MinRate: 1,
				Missed: []string{"rate: 0.0 cases/s is 100.0% below the target of 1 cases/s"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Summarise(Summary{}, tt.tally(), start, tt.targets)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Summarise (-want +got):\n%s", diff)
			}
		})
	}
}

func exampleSummary() Summary {
	return Summary{
		Addr: "127.0.0.1:7170", Mission: "NER",
		Machine:     Machine{OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "AMD EPYC", GoVersion: "go1.26.8"},
		Concurrency: 32, Conns: 1, Household: 2, Seed: 7, WarmupS: 3, MeasuredS: 20.004,
		OK: 31000, Cases: 30690, Reregistrations: 620, Replays: 310, CasesPerSecond: 1534.2, CallsPerSecond: 1549.7,
		P50Ms: 18.25, P90Ms: 30.1, P99Ms: 44.4, MaxMs: 95, Errors: map[string]int{},
		MinRate: 1500, MaxP99: 50, Missed: []string{}, Passed: true,
	}
}

// TestWriteText pins the text format that `make bench` prints (docs/benchmarks).
func TestWriteText(t *testing.T) {
	t.Parallel()
	failed := exampleSummary()
	failed.Errors = map[string]int{"Unavailable": 2, "Internal": 1}
	failed.WrongReplay = 1
	failed.Missed = []string{"p99: 60.0 ms is 10.0 ms over the target of 50 ms"}
	failed.Passed = false
	noTargets := exampleSummary()
	noTargets.MinRate, noTargets.MaxP99, noTargets.Conns = 0, 0, 4

	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{"passed", exampleSummary(), `target      RegisterCase on 127.0.0.1:7170, mission NER
machine     linux/amd64, 2 CPUs (AMD EPYC), go1.26.8
load        32 clients on 1 connection, households of 0-2, seed 7
window      20.0 s measured after 3.0 s of warm-up
calls       31000 ok: 30690 cases (620 re-registering an earlier person), 310 replays
rate        1534.2 cases/s (1549.7 calls/s)
latency     p50 18.2 ms, p90 30.1 ms, p99 44.4 ms, max 95.0 ms
errors      none
checks      every re-registration flagged as a duplicate, every replay answered with the first case
targets     met (>= 1500 cases/s, p99 <= 50 ms)
result      PASS
`},
		{"failed", failed, `target      RegisterCase on 127.0.0.1:7170, mission NER
machine     linux/amd64, 2 CPUs (AMD EPYC), go1.26.8
load        32 clients on 1 connection, households of 0-2, seed 7
window      20.0 s measured after 3.0 s of warm-up
calls       31000 ok: 30690 cases (620 re-registering an earlier person), 310 replays
rate        1534.2 cases/s (1549.7 calls/s)
latency     p50 18.2 ms, p90 30.1 ms, p99 44.4 ms, max 95.0 ms
errors      Internal 1, Unavailable 2
checks      0 re-registrations not flagged as duplicates, 1 replays answered with another case
targets     MISSED p99: 60.0 ms is 10.0 ms over the target of 50 ms
result      FAIL
`},
		{"no targets", noTargets, `target      RegisterCase on 127.0.0.1:7170, mission NER
machine     linux/amd64, 2 CPUs (AMD EPYC), go1.26.8
load        32 clients on 4 connections, households of 0-2, seed 7
window      20.0 s measured after 3.0 s of warm-up
calls       31000 ok: 30690 cases (620 re-registering an earlier person), 310 replays
rate        1534.2 cases/s (1549.7 calls/s)
latency     p50 18.2 ms, p90 30.1 ms, p99 44.4 ms, max 95.0 ms
errors      none
checks      every re-registration flagged as a duplicate, every replay answered with the first case
targets     none
result      PASS
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if err := tt.s.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("WriteText (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := exampleSummary().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 1 {
		t.Errorf("JSON summary spans %d lines, want one object on one line", n)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"cases_per_s": 1534.2, "p50_ms": 18.25, "p90_ms": 30.1, "p99_ms": 44.4, "max_ms": 95.0,
		"concurrency": 32.0, "conns": 1.0, "passed": true, "errors": map[string]any{}, "missed": []any{},
		"machine": map[string]any{"os": "linux", "arch": "amd64", "cpus": 2.0, "cpu_model": "AMD EPYC", "go_version": "go1.26.8"},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
}
