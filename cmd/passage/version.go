package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/passage-cm/passage/internal/buildinfo"
)

// runVersion is `passage version`: the module version on the first line, then the commit, its
// time, whether the tree was modified and the Go toolchain, as the build recorded them
// (internal/buildinfo, the source of the version telemetry and analytics' provenance report
// too). --short prints the version alone, for scripts.
func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "print the version alone")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: passage version [--short]")
		fs.PrintDefaults()
	}
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{command: "version", err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	info := buildinfo.Read()
	if *short {
		_, err := fmt.Fprintln(stdout, info.Version)
		return err
	}
	return info.Write(stdout, "passage")
}
