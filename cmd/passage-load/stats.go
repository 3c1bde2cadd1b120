package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
)

// Tally is what one client saw; Merge adds clients' tallies up. Latencies are kept whole (a
// sorted slice gives exact percentiles, and a run holds tens of thousands of calls at most).
type Tally struct {
	// Latencies of the successful calls in the measured window.
	Latencies []time.Duration
	// Measured counts the successful calls in the measured window by kind.
	Measured map[Kind]int
	// Errors counts failed calls by code, warm-up included: any error fails the run.
	Errors map[codes.Code]int
	// FirstError is the message of the first failure of each code, to say what went wrong.
	FirstError map[codes.Code]string
	// Unflagged counts re-registrations answered without the earlier case among the suspected
	// duplicates; WrongReplay counts replays answered with another case than the first.
	Unflagged, WrongReplay int
	// Last is when the last measured call ended.
	Last time.Time
}

// NewTally returns an empty tally.
func NewTally() *Tally {
	return &Tally{Measured: map[Kind]int{}, Errors: map[codes.Code]int{}, FirstError: map[codes.Code]string{}}
}

// Merge adds o to t.
func (t *Tally) Merge(o *Tally) {
	t.Latencies = append(t.Latencies, o.Latencies...)
	for k, n := range o.Measured {
		t.Measured[k] += n
	}
	for c, n := range o.Errors {
		t.Errors[c] += n
	}
	for c, msg := range o.FirstError {
		if _, ok := t.FirstError[c]; !ok {
			t.FirstError[c] = msg
		}
	}
	t.Unflagged += o.Unflagged
	t.WrongReplay += o.WrongReplay
	if o.Last.After(t.Last) {
		t.Last = o.Last
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted, or 0 when
// sorted is empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// Multiply before dividing so that exact ranks (p99 of 100 calls) stay exact.
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Machine is what the numbers were measured on.
type Machine struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
}

// Targets are the thresholds a run must meet; zero means none.
type Targets struct {
	MinRate float64
	MaxP99  time.Duration
}

// Summary is a run's result. Its JSON form is one object with the same facts as the text.
type Summary struct {
	Addr        string  `json:"addr"`
	Mission     string  `json:"mission"`
	Machine     Machine `json:"machine"`
	Concurrency int     `json:"concurrency"`
	Conns       int     `json:"conns"`
	Household   int     `json:"max_household"`
	Seed        uint64  `json:"seed"`
	WarmupS     float64 `json:"warmup_s"`
	// MeasuredS is the measured window: from the end of warm-up to the last call's end.
	MeasuredS float64 `json:"measured_s"`

	OK              int     `json:"ok"`
	Cases           int     `json:"cases"`
	Reregistrations int     `json:"reregistrations"`
	Replays         int     `json:"replays"`
	CasesPerSecond  float64 `json:"cases_per_s"`
	CallsPerSecond  float64 `json:"calls_per_s"`
	P50Ms           float64 `json:"p50_ms"`
	P90Ms           float64 `json:"p90_ms"`
	P99Ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`

	// Errors counts failed calls by gRPC code name, warm-up included.
	Errors map[string]int `json:"errors"`
	// Unflagged and WrongReplay count answers that broke duplicate detection or idempotency.
	Unflagged   int `json:"unflagged_reregistrations"`
	WrongReplay int `json:"wrong_replays"`

	MinRate float64 `json:"min_rate,omitempty"`
	MaxP99  float64 `json:"max_p99_ms,omitempty"`
	// Missed says, for each target missed, by how much; empty when all were met.
	Missed []string `json:"missed"`
	// Passed is false on any error, failed check or missed target.
	Passed bool `json:"passed"`
}

// Summarise turns a merged tally into a summary; start is when the measured window began.
// It sorts t.Latencies.
func Summarise(s Summary, t *Tally, start time.Time, targets Targets) Summary {
	slices.Sort(t.Latencies)
	s.OK = len(t.Latencies)
	s.Replays = t.Measured[KindReplay]
	s.Reregistrations = t.Measured[KindReregister]
	s.Cases = s.OK - s.Replays
	if t.Last.After(start) {
		s.MeasuredS = t.Last.Sub(start).Seconds()
		s.CasesPerSecond = float64(s.Cases) / s.MeasuredS
		s.CallsPerSecond = float64(s.OK) / s.MeasuredS
	}
	s.P50Ms = ms(Percentile(t.Latencies, 50))
	s.P90Ms = ms(Percentile(t.Latencies, 90))
	s.P99Ms = ms(Percentile(t.Latencies, 99))
	s.MaxMs = ms(Percentile(t.Latencies, 100))
	s.Errors = map[string]int{}
	for c, n := range t.Errors {
		s.Errors[c.String()] = n
	}
	s.Unflagged, s.WrongReplay = t.Unflagged, t.WrongReplay
	s.MinRate, s.MaxP99 = targets.MinRate, ms(targets.MaxP99)
	s.Missed = []string{}
	if targets.MinRate > 0 && s.CasesPerSecond < targets.MinRate {
		s.Missed = append(s.Missed, fmt.Sprintf("rate: %.1f cases/s is %.1f%% below the target of %g cases/s",
			s.CasesPerSecond, 100*(1-s.CasesPerSecond/targets.MinRate), targets.MinRate))
	}
	if targets.MaxP99 > 0 && s.P99Ms > s.MaxP99 {
		s.Missed = append(s.Missed, fmt.Sprintf("p99: %.1f ms is %.1f ms over the target of %g ms",
			s.P99Ms, s.P99Ms-s.MaxP99, s.MaxP99))
	}
	s.Passed = len(s.Errors) == 0 && s.Unflagged == 0 && s.WrongReplay == 0 && len(s.Missed) == 0 && s.OK > 0
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteText prints the summary, one fact a line, in a format that stays stable so that
// documents can quote it.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-12s%s\n", label, fmt.Sprintf(format, args...))
	}
	line("target", "RegisterCase on %s, mission %s", s.Addr, s.Mission)
	line("machine", "%s/%s, %d CPUs (%s), %s", s.Machine.OS, s.Machine.Arch, s.Machine.CPUs, s.Machine.CPUModel, s.Machine.GoVersion)
	line("load", "%d clients on %d %s, households of 0-%d, seed %d",
		s.Concurrency, s.Conns, plural(s.Conns, "connection", "connections"), s.Household, s.Seed)
	line("window", "%.1f s measured after %.1f s of warm-up", s.MeasuredS, s.WarmupS)
	line("calls", "%d ok: %d cases (%d re-registering an earlier person), %d replays",
		s.OK, s.Cases, s.Reregistrations, s.Replays)
	line("rate", "%.1f cases/s (%.1f calls/s)", s.CasesPerSecond, s.CallsPerSecond)
	line("latency", "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs)
	line("errors", "%s", s.errorsText())
	line("checks", "%s", s.checksText())
	line("targets", "%s", s.targetsText())
	result := "PASS"
	if !s.Passed {
		result = "FAIL"
	}
	line("result", "%s", result)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the summary as one JSON object on one line.
func (s Summary) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(s)
}

func (s Summary) errorsText() string {
	if len(s.Errors) == 0 {
		return "none"
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%s %d", c, s.Errors[c]))
	}
	return strings.Join(parts, ", ")
}

func (s Summary) checksText() string {
	if s.Unflagged == 0 && s.WrongReplay == 0 {
		return "every re-registration flagged as a duplicate, every replay answered with the first case"
	}
	return fmt.Sprintf("%d re-registrations not flagged as duplicates, %d replays answered with another case",
		s.Unflagged, s.WrongReplay)
}

func (s Summary) targetsText() string {
	if s.MinRate == 0 && s.MaxP99 == 0 {
		return "none"
	}
	if len(s.Missed) > 0 {
		return "MISSED " + strings.Join(s.Missed, "; ")
	}
	var met []string
	if s.MinRate > 0 {
		met = append(met, fmt.Sprintf(">= %g cases/s", s.MinRate))
	}
	if s.MaxP99 > 0 {
		met = append(met, fmt.Sprintf("p99 <= %g ms", s.MaxP99))
	}
	return "met (" + strings.Join(met, ", ") + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
