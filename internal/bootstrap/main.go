package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/passage-cm/passage/internal/buildinfo"
	"github.com/passage-cm/passage/internal/gctune"
	"github.com/passage-cm/passage/internal/healthcheck"
)

// Main is the whole main function of a command that runs services on their own
// (cmd/passage-intake, cmd/passage-returns, …): it runs them until SIGINT or SIGTERM and,
// should they fail, prints the error after the command's name and exits with status 1. The
// command takes two flags: --dev, and --version, which prints the build (internal/buildinfo)
// and exits; `<command> healthcheck` probes a running server as `passage healthcheck` does
// (internal/healthcheck), exiting 1 when it is not healthy, so that a service's own image
// can probe itself. -h prints the usage on standard output and exits 0; a refused flag or an
// argument exits 2.
func Main(name string, services ...Service) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, name, os.Args[1:], os.Stdout, os.Stderr, services)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		return // -h: the usage is on standard output
	case errors.Is(err, errUsage):
		os.Exit(2) // the error and the usage are on standard error
	case err != nil:
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// errUsage marks a command line the flag package refused (and explained).
var errUsage = errors.New("usage")

func realMain(ctx context.Context, name string, args []string, stdout, stderr io.Writer, services []Service) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(ctx, name, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	dev := fs.Bool("dev", false, "development mode: local keys under .passage/, development tokens accepted")
	version := fs.Bool("version", false, "print the version and the commit it was built from, and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [--dev] [--version]\n       %s healthcheck [flags]   probe a running server (%s healthcheck -h)\n\n", name, name, name)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+EnvHelp())
	}
	if err := parseArgs(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (%s -h for help)\n", name, fs.Arg(0), name)
		return errUsage
	}
	if *version {
		return buildinfo.Read().Write(stdout, name)
	}
	return Serve(ctx, *dev, services...)
}

// parseArgs parses args with fs. What the flag package prints goes to standard output for
// -h (flag.ErrHelp), to standard error with a refused flag (errUsage), as passage's own
// commands do.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var printed bytes.Buffer
	fs.SetOutput(&printed)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = printed.WriteTo(stdout)
		return err
	case err != nil:
		_, _ = printed.WriteTo(stderr)
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return nil
}

// runHealthcheck is `<name> healthcheck`: the probe `passage healthcheck` makes
// (internal/healthcheck), its result on stdout when the server is healthy, else an error.
func runHealthcheck(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name+" healthcheck", flag.ContinueOnError)
	o := healthcheck.Flags(fs, name, os.Getenv)
	if err := parseArgs(fs, args, stdout, stderr); err != nil {
		return err
	}
	if err := o.Check(fs); err != nil {
		fmt.Fprintf(stderr, "%s healthcheck: %v (%s healthcheck -h for help)\n", name, err, name)
		return errUsage
	}
	return healthcheck.Run(ctx, *o, stdout)
}

// Serve reads the configuration from the environment (dev is the --dev flag) and runs the
// services until ctx ends, logging with the configured level.
func Serve(ctx context.Context, dev bool, services ...Service) error {
	cfg, err := ConfigFromEnv(dev, services...)
	if err != nil {
		return err
	}
	tuneGC()
	logger := NewLogger(cfg.LogLevel)
	// Whatever logs through slog.Default or the log package (a worker given no logger, a
	// library) writes the same JSON lines as the rest of the process.
	slog.SetDefault(logger)
	return Run(ctx, cfg, logger, services...)
}

// tuneGC bounds the garbage collector's headroom (internal/gctune) unless the operator chose
// with GOGC: five times the live heap while that is small (a tenth less CPU per registration
// in `make bench` than twice, for a few tens of megabytes), at most 256 MiB above it past
// that, but never less than the live heap again (analytics' copy of the rollup at ten million
// persons: 1.6 GB rather than 4 GB).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		gcTuner.Do(func() { gctune.Start(gctune.Config{MinPercent: 100, MaxPercent: 400, Headroom: 256 << 20}) })
	}
}

// gcTuner starts the tuner once per process, however many times Serve runs.
var gcTuner sync.Once
