package bootstrap

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/passage-cm/passage/internal/buildinfo"
)

// A service that fails the test if anything starts it.
func mustNotStart(t *testing.T) []Service {
	return []Service{{Name: "passage.test.v1.NeverService", Short: "never", Role: "never",
		Register: func(Deps, *grpc.Server) func(context.Context) error {
			t.Error("--version started the service")
			return nil
		}}}
}

func TestMainVersion(t *testing.T) {
	var stdout, stderr, want strings.Builder
	if err := realMain(t.Context(), "passage-intake", []string{"--version"}, &stdout, &stderr, mustNotStart(t)); err != nil {
		t.Fatalf("--version: %v", err)
	}
	if err := buildinfo.Read().Write(&want, "passage-intake"); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != want.String() {
		t.Errorf("--version printed\n%q\nwant\n%q", stdout.String(), want.String())
	}
	if !strings.HasPrefix(stdout.String(), "passage-intake "+Version+"\n") {
		t.Errorf("--version's first line is not the command and bootstrap.Version %q: %q", Version, stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("--version wrote to standard error: %q", stderr.String())
	}
}

func TestMainUsage(t *testing.T) {
	var stdout, stderr strings.Builder
	err := realMain(t.Context(), "passage-intake", []string{"-h"}, &stdout, &stderr, mustNotStart(t))
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stdout.String(), "-version") || !strings.Contains(stdout.String(), "PASSAGE_GRPC_ADDR (default 127.0.0.1:7070)") || stderr.Len() != 0 {
		t.Errorf("-h: error %v, stdout %q, stderr %q; want flag.ErrHelp and the usage on stdout alone", err, stdout.String(), stderr.String())
	}

	stdout.Reset()
	err = realMain(t.Context(), "passage-intake", []string{"--no-such-flag"}, &stdout, &stderr, mustNotStart(t))
	if !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), "no-such-flag") || stdout.Len() != 0 {
		t.Errorf("--no-such-flag: error %v, stdout %q, stderr %q; want errUsage and the error on stderr alone", err, stdout.String(), stderr.String())
	}
}

// Telemetry and analytics' provenance report the same version as --version.
func TestVersionIsBuildinfos(t *testing.T) {
	if Version != buildinfo.Version() {
		t.Errorf("bootstrap.Version = %q, buildinfo.Version() = %q", Version, buildinfo.Version())
	}
}
