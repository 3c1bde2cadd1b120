package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// errUsage marks errors in the command line: they exit with status 2, as flag's own do.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp), errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "passage-load:", err)
		os.Exit(1)
	}
}

// options are the command line's settings.
type options struct {
	addr, token, mission, hostCountry string
	concurrency, conns, household     int
	warmup, duration, callTimeout     time.Duration
	requests                          int64
	seed                              uint64
	json                              bool
	targets                           Targets
	waitReady                         string
	waitTimeout                       time.Duration
}

var missionPattern = regexp.MustCompile(`^[A-Z]{3}(-[A-Z0-9]{2,16})?$`)

// addrs are the servers of --addr, in order.
func (o options) addrs() []string {
	return strings.Split(o.addr, ",")
}

// parseFlags reads the command line; getenv supplies PASSAGE_TOKEN.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("passage-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: passage-load [flags]\n\nSends RegisterCase calls from concurrent clients and reports cases/s and latency.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:7070", "the server's gRPC address, or several servers' comma-separated: the connections go to each in turn")
	fs.StringVar(&o.token, "token", "", "bearer token of a caseworker of --mission (default $PASSAGE_TOKEN)")
	fs.StringVar(&o.mission, "mission", "NER", "the mission to register cases in")
	fs.StringVar(&o.hostCountry, "host-country", "", "the cases' host country (default: the mission's country)")
	fs.IntVar(&o.concurrency, "concurrency", 32, "clients, each calling in a closed loop")
	fs.IntVar(&o.conns, "conns", 1, "gRPC connections the clients share")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "time to run before measuring")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "time to measure")
	fs.Int64Var(&o.requests, "requests", 0, "stop after this many measured calls (0: no cap)")
	fs.IntVar(&o.household, "household", 2, "largest household: each case has 0 to this many members")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the synthetic people (0: pick one and print it)")
	fs.BoolVar(&o.json, "json", false, "print the summary as one JSON object")
	fs.Float64Var(&o.targets.MinRate, "min-rate", 0, "fail unless at least this many cases/s (0: no target)")
	fs.DurationVar(&o.targets.MaxP99, "max-p99", 0, "fail unless the p99 latency is at most this (0: no target)")
	fs.StringVar(&o.waitReady, "wait-ready", "", "HOST:PORT of the server's HTTP probes: wait until /readyz answers 200 first")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", time.Minute, "how long --wait-ready waits")
	fs.DurationVar(&o.callTimeout, "call-timeout", 10*time.Second, "deadline of each call")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.token == "" {
		o.token = getenv("PASSAGE_TOKEN")
	}
	if o.hostCountry == "" {
		o.hostCountry, _, _ = strings.Cut(o.mission, "-")
	}
	var problems []string
	check := func(bad bool, problem string) {
		if bad {
			problems = append(problems, problem)
		}
	}
	check(o.token == "", "a token is required: --token or PASSAGE_TOKEN (passage dev-token --role caseworker --mission NER)")
	check(!missionPattern.MatchString(o.mission), `--mission must be a mission code such as "NER" or "NER-AGADEZ"`)
	check(o.concurrency < 1, "--concurrency must be at least 1")
	check(o.conns < 1 || o.conns > max(o.concurrency, 1), "--conns must be between 1 and --concurrency")
	check(slices.Contains(o.addrs(), ""), "--addr must name each server, HOST:PORT[,HOST:PORT...]")
	check(o.conns < len(o.addrs()), "--conns must be at least the number of --addr servers: each needs a connection")
	check(o.duration <= 0, "--duration must be positive: a run is always bounded in time")
	check(o.warmup < 0, "--warmup must not be negative")
	check(o.requests < 0, "--requests must not be negative")
	check(o.household < 0 || o.household > 30, "--household must be between 0 and 30")
	check(o.targets.MinRate < 0 || o.targets.MaxP99 < 0, "--min-rate and --max-p99 must not be negative")
	check(o.callTimeout <= 0 || o.waitTimeout <= 0, "--call-timeout and --wait-timeout must be positive")
	if len(problems) > 0 {
		return o, fmt.Errorf("%w: %s", errUsage, strings.Join(problems, "; "))
	}
	return o, nil
}

func realMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintln(stderr, "passage-load:", err)
		}
		return err
	}
	if o.seed == 0 {
		o.seed = randomSeed()
	}
	if o.waitReady != "" {
		if err := waitReady(ctx, o.waitReady, o.waitTimeout); err != nil {
			return err
		}
	}
	s, err := run(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.json {
		err = s.WriteJSON(stdout)
	} else {
		err = s.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted: the numbers above cover part of the run")
	case !s.Passed:
		return errors.New("run failed: " + failure(s))
	}
	return nil
}

// failure says why a run did not pass.
func failure(s Summary) string {
	var why []string
	if len(s.Errors) > 0 {
		why = append(why, "calls failed ("+s.errorsText()+")")
	}
	if s.Unflagged > 0 || s.WrongReplay > 0 {
		why = append(why, s.checksText())
	}
	why = append(why, s.Missed...)
	if s.OK == 0 && len(why) == 0 {
		why = append(why, "no call succeeded in the measured window")
	}
	return strings.Join(why, "; ")
}

// randomSeed picks a seed for a run without --seed; the summary prints it for reruns.
func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

// waitReady polls http://addr/readyz until it answers 200 or timeout passes.
func waitReady(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + addr + "/readyz"
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("--wait-ready: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200 within %s", url, timeout)
		case <-tick.C:
		}
	}
}

// run sends the load and sums it up. Calls are not cut short when the run ends or is
// interrupted: each finishes (or hits its deadline), so that none shows as an error.
func run(ctx context.Context, o options, stderr io.Writer) (Summary, error) {
	conns := make([]*grpc.ClientConn, o.conns)
	addrs := o.addrs()
	for i := range conns {
		addr := addrs[i%len(addrs)]
		c, err := grpc.NewClient(addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(auth.BearerCredentials(o.token, false)))
		if err != nil {
			return Summary{}, fmt.Errorf("connect to %s: %w", addr, err)
		}
		defer c.Close()
		c.Connect()
		conns[i] = c
	}

	today := time.Now().UTC()
	start := time.Now()
	r := &runner{
		measureFrom: start.Add(o.warmup),
		stopAt:      start.Add(o.warmup + o.duration),
		requests:    o.requests,
		callTimeout: o.callTimeout,
	}
	tallies := make([]*Tally, o.concurrency)
	var wg sync.WaitGroup
	for i := range o.concurrency {
		w := NewWorkload(WorkloadConfig{
			Seed: o.seed, Client: uint64(i), Mission: o.mission, HostCountry: o.hostCountry,
			MaxHousehold: o.household, Mix: defaultMix, Today: today, NewID: uuid.NewString,
		})
		client := intakev1.NewIntakeServiceClient(conns[i%len(conns)])
		wg.Go(func() { tallies[i] = r.client(ctx, client, w) })
	}
	wg.Wait()

	total := NewTally()
	for _, t := range tallies {
		total.Merge(t)
	}
	for code, n := range total.Errors {
		fmt.Fprintf(stderr, "passage-load: %d calls failed with %s; the first said: %s\n", n, code, total.FirstError[code])
	}
	return Summarise(Summary{
		Addr: o.addr, Mission: o.mission, Machine: machineFacts(), Concurrency: o.concurrency,
		Conns: o.conns, Household: o.household, Seed: o.seed, WarmupS: o.warmup.Seconds(),
	}, total, r.measureFrom, o.targets), nil
}

// runner is what the clients of a run share.
type runner struct {
	measureFrom, stopAt time.Time
	requests            int64
	claimed             atomic.Int64
	callTimeout         time.Duration
}

// errorPause keeps a client whose calls fail at once (a server that went away) from
// spinning; the run fails anyway, so the pause distorts nothing that counts.
const errorPause = 20 * time.Millisecond

// client calls in a closed loop until the run ends, ctx is done, or the request cap is hit.
func (r *runner) client(ctx context.Context, client intakev1.IntakeServiceClient, w *Workload) *Tally {
	t := NewTally()
	for ctx.Err() == nil {
		began := time.Now()
		if !began.Before(r.stopAt) {
			break
		}
		measured := !began.Before(r.measureFrom)
		if measured && r.requests > 0 && r.claimed.Add(1) > r.requests {
			break
		}
		c := w.Next()
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.callTimeout)
		sent := time.Now()
		resp, err := client.RegisterCase(callCtx, c.Req)
		ended := time.Now()
		cancel()
		if err != nil {
			code := status.Code(err)
			t.Errors[code]++
			if _, ok := t.FirstError[code]; !ok {
				t.FirstError[code] = status.Convert(err).Message()
			}
			time.Sleep(errorPause)
			continue
		}
		w.Remember(c, resp.GetCase().GetCaseId())
		switch Check(c, resp) {
		case errUnflagged:
			t.Unflagged++
		case errWrongReplay:
			t.WrongReplay++
		}
		if measured {
			t.Latencies = append(t.Latencies, ended.Sub(sent))
			t.Measured[c.Kind]++
			t.Last = ended
		}
	}
	return t
}

var (
	errUnflagged   = errors.New("a re-registration was not flagged as a duplicate of the earlier case")
	errWrongReplay = errors.New("a replay was answered with another case than the first")
)

// Check verifies what the answer to c must show: a re-registration names the earlier case
// among the suspected duplicates, matched on the principal's document; a replay returns the
// earlier case.
func Check(c Call, resp *intakev1.RegisterCaseResponse) error {
	switch c.Kind {
	case KindReplay:
		if resp.GetCase().GetCaseId() != c.Earlier {
			return errWrongReplay
		}
	case KindReregister:
		principal := resp.GetCase().GetSubjectId()
		for _, d := range resp.GetSuspectedDuplicates() {
			if d.GetCaseId() == c.Earlier && d.GetMatchedSubjectId() == principal &&
				containsBasis(d.GetMatchedOn(), intakev1.MatchBasis_MATCH_BASIS_DOCUMENT) {
				return nil
			}
		}
		return errUnflagged
	}
	return nil
}

func containsBasis(bs []intakev1.MatchBasis, b intakev1.MatchBasis) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}
