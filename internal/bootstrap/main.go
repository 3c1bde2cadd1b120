package bootstrap

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Main is the whole main function of a command that runs services on their own
// (passage-intake, passage-returns, …): it runs them until SIGINT or SIGTERM and, should they
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
	return Run(ctx, cfg, NewLogger(cfg.LogLevel), services...)
}

// defaultGCPercent is the garbage collector's target when GOGC is unset. A Passage server
// keeps a small live heap and makes a great deal of short-lived garbage (protobuf messages,
// ciphertexts, query arguments): collecting at 5 times the live heap rather than twice cost
// about a tenth less CPU per registration in `make bench`, for a few tens of megabytes.
const defaultGCPercent = 400

// tuneGC applies defaultGCPercent unless the operator chose with GOGC.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
