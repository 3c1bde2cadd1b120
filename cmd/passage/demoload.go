package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/services/analytics/bulk"
)

const demoLoadUsage = `usage: passage demo load --persons N [--seed S] [--first-year Y] [--last-year Y] [--skip-facts] [--json]

Adds N synthetic persons to HQ analytics for load tests and benchmarks: their de-identified
facts (analytics.fact, by COPY) and the rollup the Aggregate engine reads (analytics.rollup),
in one transaction, straight into the anonymised tables (no case, no vault, no event: use
"passage demo seed" to load a caseload through the services). Skewed like IOM's caseload; the
same --seed makes the same persons. Connects to DATABASE_URL as the role that runs migrations
(owner with BYPASSRLS). A running server picks the rows up at its next refresh.
`

func demoLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoLoadUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	persons := fs.Int64("persons", 0, "how many persons to add (`N`, e.g. 10000000)")
	seed := fs.Uint64("seed", 1, "random `SEED`: the same one makes the same persons")
	first := fs.Int("first-year", 2010, "first `YEAR` of the caseload")
	last := fs.Int("last-year", 2025, "last `YEAR` of the caseload")
	skipFacts := fs.Bool("skip-facts", false, "write the rollup only (quicker, smaller; the rollup then no longer equals the facts)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, _, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("demo load: unexpected argument %q", pos[0])
	}
	if *persons < 1 {
		return errors.New("demo load: --persons must be at least 1")
	}
	url := getenv("DATABASE_URL")
	if url == "" {
		return errors.New("demo load: DATABASE_URL is not set (the migrations' owner)")
	}
	g, err := bulk.NewGenerator(bulk.Config{Seed: *seed, FirstYear: *first, LastYear: *last})
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("demo load: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var (
		mu      sync.Mutex
		printed time.Time
	)
	start := time.Now()
	rep, err := bulk.Load(ctx, conn, g, *persons, bulk.Options{
		SkipFacts: *skipFacts,
		Progress: func(n int64) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(printed) < 2*time.Second && n != *persons {
				return
			}
			printed = time.Now()
			fmt.Fprintf(stderr, "demo load: %d of %d persons made (%.0f/s)\n", n, *persons, float64(n)/time.Since(start).Seconds())
		},
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"persons": rep.Persons, "facts": rep.Facts, "rollupRows": rep.RollupRows,
			"seconds": rep.Elapsed.Seconds(), "personsPerSecond": rep.PersonsPerSec,
		})
	}
	_, err = fmt.Fprintf(stdout, "%d persons, %d facts, %d rollup rows written in %s: %.0f persons/s\n",
		rep.Persons, rep.Facts, rep.RollupRows, rep.Elapsed.Round(100*time.Millisecond), rep.PersonsPerSec)
	return err
}
