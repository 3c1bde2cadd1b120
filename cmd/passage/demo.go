package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/demo"
	"github.com/passage-cm/passage/internal/retrypolicy"
)

const demoUsage = `usage: passage demo seed [--year 2015] [--scale 1.0] [--seed N] [--concurrency N] [--json]

Loads the synthetic caseload of the seed document's year (IOM, 2015: about 69,000 persons
returned with AVRR from 98 host countries to 157 countries of origin, the HASM year of 524
individuals of 43 nationalities, and victims of trafficking) into a server started with
"passage serve --dev", through the services' own APIs: as caseworkers of each host mission
and a programme manager at HQ, with development tokens signed by the key under --dev-dir.
The people are synthetic and obviously fake. The same --seed, --year and --scale make the
same plan with the same request ids, so a run that stopped can be run again: what was done
is replayed, nothing is written twice.
`

// runDemo runs `passage demo seed|load|bench`.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "seed":
			return demoSeed(ctx, args[1:], os.Getenv, stdout, stderr, dialDemo)
		case "load":
			return demoLoad(ctx, args[1:], os.Getenv, stdout, stderr)
		case "bench":
			return demoBench(ctx, args[1:], os.Getenv, stdout, stderr)
		}
	}
	const usage = demoUsage + "\n" + demoLoadUsage + "\n" + demoBenchUsage
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, usage)
		return errUsage
	case isHelp(args[0]):
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return &usageError{command: "demo", err: fmt.Errorf("unknown command %q", args[0])}
	}
}

// dialDemo connects with the options' transport and no token of its own: the loader sends
// each call with the token of the caseworker or programme manager it acts as.
func dialDemo(o clientOptions) (*grpc.ClientConn, error) {
	creds, err := o.tls.Credentials()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(creds), retrypolicy.DialOption())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", o.addr, err)
	}
	return conn, nil
}

// demoSeed plans the caseload, then loads it through conn (dial's connection).
func demoSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer,
	connect func(clientOptions) (*grpc.ClientConn, error),
) error {
	fs := flag.NewFlagSet("demo seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	o := &clientOptions{}
	fs.StringVar(&o.addr, "addr", cmp.Or(getenv("PASSAGE_ADDR"), defaultAddr), "server `host:port` (env PASSAGE_ADDR)")
	o.tls.Register(fs, getenv, "addr")
	year := fs.Int("year", 2015, "the caseload's `YEAR`")
	scale := fs.Float64("scale", 1, "multiply every count by `S` (0.02: about 1,400 AVRR persons); the shares stay as published")
	seed := fs.Uint64("seed", 2015, "the plan's random `SEED`")
	concurrency := fs.Int("concurrency", 16, "cases loaded at once")
	planOnly := fs.Bool("plan", false, "print the plan's figures and load nothing")
	devDir := fs.String("dev-dir", cmp.Or(getenv("PASSAGE_DEV_DIR"), ".passage"), "folder of the development keys of the server (`passage serve --dev`)")
	fs.BoolVar(&o.json, "json", false, "print the plan's figures and the report as JSON")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("demo seed takes no arguments besides flags")
	}
	if *concurrency < 1 || *concurrency > 256 {
		return errors.New("--concurrency must be between 1 and 256")
	}
	plan, err := demo.NewPlan(demo.Config{Year: *year, Scale: *scale, Seed: *seed}, demo.IOMRegions())
	if err != nil {
		return err
	}
	if !*planOnly {
		fmt.Fprintf(stderr, "plan: %d cases, %d persons (%d AVRR persons from %d host to %d origin countries; HASM %d individuals of %d nationalities; %d victims of trafficking)\n",
			plan.Cases(), plan.Persons(), plan.Figures.AVRRPersons, plan.Figures.AVRRHostCountries, plan.Figures.AVRRReturnCountries,
			plan.Figures.HASMIndividuals, plan.Figures.HASMNationalities, plan.Figures.Victims)
	}
	if *planOnly {
		return printSeed(stdout, o.json, plan.Figures, nil)
	}

	// The key `passage serve --dev` trusts, as `passage dev-token` reads it.
	key, err := auth.LoadOrCreateDevKey(*devDir)
	if err != nil {
		return err
	}
	o.tls.Resolve(o.addr, given["insecure"])
	conn, err := connect(*o)
	if err != nil {
		return err
	}
	defer conn.Close()
	tokens, partnerTokens := demo.DevTokens(key, "demo", 12*time.Hour)
	loader := &demo.Loader{
		Conn:          conn,
		Concurrency:   *concurrency,
		Tokens:        tokens,
		PartnerTokens: partnerTokens,
		Progress: func(r demo.Report) {
			fmt.Fprintf(stderr, "%d/%d cases, %d persons, %.0f persons/s, %d calls (%d retried)\n",
				r.Cases, plan.Cases(), r.Persons, r.PersonsPerSecond, r.Calls, r.Retries)
		},
	}
	rep, err := loader.Load(ctx, plan)
	if err != nil {
		fmt.Fprintf(stderr, "stopped after %d calls; run the same command again to go on (what was done is replayed)\n", rep.Calls)
		return err
	}
	return printSeed(stdout, o.json, plan.Figures, &rep)
}

func printSeed(w io.Writer, asJSON bool, f demo.Figures, rep *demo.Report) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Figures demo.Figures `json:"figures"`
			Report  *demo.Report `json:"report,omitempty"`
		}{f, rep})
	}
	fmt.Fprintf(w, "AVRR: %d persons in %d cases, from %d host countries to %d countries of origin\n",
		f.AVRRPersons, f.AVRRCases, f.AVRRHostCountries, f.AVRRReturnCountries)
	share := func(n int) string {
		return fmt.Sprintf("%d (%.2f%%)", n, 100*float64(n)/float64(max(f.AVRRPersons, 1)))
	}
	fmt.Fprintf(w, "  male %s, female %s\n", share(f.AVRRBySex["MALE"]), share(f.AVRRBySex["FEMALE"]))
	for _, r := range []string{"EEA", "MENA", "APAC"} {
		fmt.Fprintf(w, "  from %-6s %s\n", r, share(f.AVRRByHostRegion[r]))
	}
	for _, r := range []string{"SEEECA", "APAC", "MENA"} {
		fmt.Fprintf(w, "  to   %-6s %s\n", r, share(f.AVRRByReturnRegion[r]))
	}
	for _, v := range []string{"VICTIM_OF_TRAFFICKING", "UNACCOMPANIED_MIGRANT_CHILD", "MEDICAL_NEEDS"} {
		fmt.Fprintf(w, "  %s %s\n", v, share(f.AVRRByVulnerability[v]))
	}
	fmt.Fprintf(w, "HASM: %d individuals of %d nationalities (%d requests approved, %d rejected)\n",
		f.HASMIndividuals, f.HASMNationalities, f.HASMApproved, f.HASMRejected)
	fmt.Fprintf(w, "VoT: %d victims, %d identified\n", f.Victims, f.VictimsIdentified)
	fmt.Fprintf(w, "Referrals of victims (counted in the year they are loaded): by status %s; by partner type %s\n",
		formatCounts(f.ReferralsByStatus), formatCounts(f.ReferralsByPartnerType))
	if rep != nil {
		fmt.Fprintf(w, "loaded %d cases, %d persons in %s: %.0f persons/s (%d calls, %d retried)\n",
			rep.Cases, rep.Persons, rep.Elapsed.Round(time.Second), rep.PersonsPerSecond, rep.Calls, rep.Retries)
	}
	return nil
}
