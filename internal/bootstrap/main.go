package bootstrap

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/passage-cm/passage/internal/gctune"
)

// Main is the whole main function of a command that runs services on their own
// (cmd/passage-intake, cmd/passage-returns, …): it runs them until SIGINT or SIGTERM and, should they
// fail, prints the error after the command's name and exits with status 1. The command takes
// one flag, --dev.
func Main(name string, services ...Service) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, services)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, services []Service) error {
	dev := flag.Bool("dev", false, "development mode: local keys under .passage/, development tokens accepted")
	flag.Parse()
	return Serve(ctx, *dev, services...)
}

// Serve reads the configuration from the environment (dev is the --dev flag) and runs the
// services until ctx ends, logging with the configured level.
func Serve(ctx context.Context, dev bool, services ...Service) error {
	cfg, err := ConfigFromEnv(dev)
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
