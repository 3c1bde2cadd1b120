package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/passage-cm/passage/internal/healthcheck"
)

// runHealthcheck is `passage healthcheck`: one probe of a running server, as a load balancer
// makes it (internal/healthcheck), for the image's HEALTHCHECK and Compose's, which have no
// shell or HTTP client to run. Healthy: the result on stdout, exit 0; not: why, in one line on
// stderr, exit 1; a wrong command line exits 2.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := healthcheck.Flags(fs, "passage", os.Getenv)
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if err := o.Check(fs); err != nil {
		return &usageError{command: "healthcheck", err: err}
	}
	return healthcheck.Run(ctx, *o, stdout)
}
