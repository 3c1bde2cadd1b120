// Command passage-returns runs the AVRR return service alone. It reads the same environment
// as `passage serve` (see the README); --dev uses development keys and tokens.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/returns"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "passage-returns:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	dev := flag.Bool("dev", false, "development mode: local keys under .passage/, development tokens accepted")
	flag.Parse()
	cfg, err := bootstrap.ConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	return bootstrap.Run(ctx, cfg, bootstrap.NewLogger(cfg.LogLevel), returns.Spec())
}
