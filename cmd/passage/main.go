// Command passage runs Passage and administers it: `passage serve` runs every service in one
// process (for a laptop or a small mission), `passage migrate` applies the database
// migrations, `passage dev-token` mints development tokens, `passage case` is the
// caseworker's client, `passage referral` the referral service's (staff and partners),
// `passage handover` the hand-over of a case between missions, `passage audit verify` checks
// the audit chains, `passage keys` manages the vault's key-encryption key (rotate, rewrap,
// retire), `passage retention` reports or applies the retention policy, and `passage erase`
// and `passage export` answer a data protection request about one person (erasure, subject
// access), and `passage healthcheck` probes a running server as a load balancer does, for the
// images' health check (internal/healthcheck).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/services/catalog"
)

const usage = `usage: passage <command> [arguments]

commands:
  serve [--dev]                          run every service in one process
  migrate up|down|version                apply, revert one, or show the database migrations (DATABASE_URL)
  dev-token --role ROLE --mission CODE   print a development token (development keys under .passage/);
                                        a partner agency's: --role partner --partner PARTNER_ID
  case register|get|list|update|close|open|erase   the caseworker's client (passage case -h)
  search --document T:C:N | --name G,F --dob YYYY[-MM[-DD]] | --phone P  --purpose P
                                        find a person already registered in your mission (passage search -h)
  search elsewhere --document T:C:N | --name G,F --dob YYYY-MM-DD  --purpose P
                                        a supervisor asks whether other missions know the person
  search reindex --mission M --by STAFF  index the people registered before the search existed (DATABASE_URL, keys)
  returns ...                            AVRR: eligibility, departure, reintegration, monitoring (passage returns -h)
  trafficking ...                        victims of trafficking: screening, exploitation, assistance (passage trafficking -h)
  hasm ...                               stranded migrants: requests, HQ decisions, funds (passage hasm -h)
  analytics aggregate|export|victims|regions|budget   HQ's anonymised statistics (passage analytics -h)
  demo seed [--scale S] [--year Y]       load the synthetic 2015 caseload into a --dev server (passage demo -h)
  audit verify [--mission CODE]          verify the audit chains; names the first broken link (passage audit -h)
  keys init|status|rotate|rewrap|retire  the vault's key-encryption key (passage keys -h)
  retention report|run                   identities due for erasure under the retention policy
  erase --mission M --subject ID --reason R --by STAFF   the operator's erasure of one person
  export --mission M --subject ID --by STAFF --request REF --out FILE
                                        the operator's subject access export of one person (passage export -h)
  referral ...                           referrals to and from partner agencies: partners, create, send, accept,
                                        link to a case, the partner's feed (passage referral -h)
  referral deliveries list|replay        outbound webhook deliveries: list, replay dead letters (passage referral deliveries -h)
  followup ...                           follow-ups: what is due and overdue, closing, assigning, the schedule (passage followup -h)
  note add|edit|get|list                 case notes: written on a case, sealed with the person's key (passage note -h)
  document upload|download|list          documents: files on a case, sealed with the person's key (passage document -h)
  staff list|get|provision|deactivate|reactivate   the staff directory: teams, and leavers refused at once (passage staff -h)
  handover ...                           hand a case's next part to another mission: propose, accept, decline,
                                        withdraw, complete, list incoming and outgoing (passage handover -h)
  demo load --persons N                  add N synthetic persons to HQ analytics, for benchmarks (DATABASE_URL)
  demo bench                             random Aggregate calls against a server: latency percentiles, memory
  healthcheck [--live] [--grpc ADDR [--service NAME]]   probe a running server as a load balancer does:
                                        exit 0 when /readyz answers 200 (passage healthcheck -h)
  version                                print the version
`

// services are the services `passage serve` runs, in start order.
func services() []bootstrap.Service {
	return catalog.Services()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit status, having printed the outcome
// once (exitCode).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return exitCode(realMain(ctx, args, stdout, stderr), stdout, stderr)
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "migrate":
		return migrateCmd(rest, stdout)
	case "dev-token":
		return devToken(rest, stdout, stderr)
	case "case":
		return runCase(ctx, rest, stdout, stderr)
	case "search":
		return runSearch(ctx, rest, stdout, stderr)
	case "returns":
		return runReturns(ctx, rest, stdout, stderr)
	case "trafficking":
		return runTrafficking(ctx, rest, stdout, stderr)
	case "hasm":
		return runHASM(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "retention":
		return runRetention(ctx, rest, stdout, stderr)
	case "erase":
		return runErase(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "analytics":
		return runAnalytics(ctx, rest, stdout, stderr)
	case "referral":
		return runReferral(ctx, rest, stdout, stderr)
	case "followup":
		return runFollowUp(ctx, rest, stdout, stderr)
	case "note":
		return runNote(ctx, rest, stdout, stderr)
	case "document":
		return runDocument(ctx, rest, stdout, stderr)
	case "staff":
		return runStaff(ctx, rest, stdout, stderr)
	case "handover":
		return runHandover(ctx, rest, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, rest, stdout, stderr)
	case "version":
		return runVersion(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return &usageError{err: fmt.Errorf("unknown command %q", cmd)}
	}
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "development mode: create or reuse keys under .passage/ and accept development tokens")
	profiler := fs.String("pprof", "", "with --dev: serve Go's profiler (/debug/pprof/) on this loopback `host:port`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: passage serve [--dev] [--pprof host:port]\n\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+bootstrap.EnvHelp())
	}
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if *profiler != "" {
		if !*dev {
			return errors.New("serve: --pprof is for development only: add --dev")
		}
		_, stop, err := servePprof(ctx, *profiler)
		if err != nil {
			return err
		}
		defer stop()
	}
	return bootstrap.Serve(ctx, *dev, services()...)
}

const migrateUsage = "usage: passage migrate up|down|version\n"

func migrateCmd(args []string, stdout io.Writer) error {
	if slices.ContainsFunc(args, isHelp) {
		fmt.Fprint(stdout, migrateUsage)
		return nil
	}
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "version") {
		return &usageError{command: "migrate", err: errors.New("want one of up, down, version")}
	}
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is not set")
	}
	m, err := database.NewMigrator(url)
	if err != nil {
		return err
	}
	defer m.Close()
	switch args[0] {
	case "up":
		if err := m.Up(); err != nil {
			return err
		}
	case "down":
		if err := m.Down(); err != nil {
			return err
		}
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	state := ""
	if dirty {
		state = " (dirty: a migration failed half-way; fix it by hand, then force the version)"
	}
	fmt.Fprintf(stdout, "migration version %d%s\n", v, state)
	return nil
}

func devToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "caseworker, supervisor, programme_manager, analyst, partner or admin")
	mission := fs.String("mission", "", `mission code ("NER", "NER-AGADEZ") or "HQ" for HQ roles`)
	partner := fs.String("partner", "", "the partner agency's id (role partner): passage referral's partner_id")
	subject := fs.String("subject", "", "pseudonymous staff id (default: dev-<role>)")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime; the server refuses tokens longer than its PASSAGE_MAX_TOKEN_LIFETIME (12h by default)")
	dir := fs.String("dir", envOr("PASSAGE_DEV_DIR", ".passage"), "folder of the development keys")
	pos, _, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return &usageError{command: "dev-token", err: fmt.Errorf("unexpected argument %q", pos[0])}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	if *mission == "" && (r != auth.RolePartner || *partner == "") {
		return errors.New("--mission is required (a partner gives --partner instead)")
	}
	if *subject == "" {
		*subject = "dev-" + string(r)
	}
	key, err := auth.LoadOrCreateDevKey(*dir)
	if err != nil {
		return err
	}
	tok, err := auth.MintToken(key, auth.DevIssuer, auth.Audience, auth.Claims{Subject: *subject, Role: r, Mission: *mission, Partner: *partner}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
