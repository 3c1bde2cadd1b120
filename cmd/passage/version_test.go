package main

import (
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	var want strings.Builder
	if err := buildinfo.Read().Write(&want, "passage"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs(t, "version")
	if code != 0 || stdout != want.String() || stderr != "" {
		t.Errorf("passage version: exit %d, stdout %q, stderr %q; want 0, %q, nothing", code, stdout, stderr, want.String())
	}
	// One source: the version the server reports in telemetry and analytics' provenance.
	if !strings.HasPrefix(stdout, "passage "+bootstrap.Version+"\n") {
		t.Errorf("passage version does not lead with bootstrap.Version %q: %q", bootstrap.Version, stdout)
	}

	code, stdout, stderr = runArgs(t, "version", "--short")
	if code != 0 || stdout != buildinfo.Version()+"\n" || stderr != "" {
		t.Errorf("passage version --short: exit %d, stdout %q, stderr %q; want 0, %q, nothing", code, stdout, stderr, buildinfo.Version()+"\n")
	}

	code, stdout, _ = runArgs(t, "version", "-h")
	if code != 0 || !strings.Contains(stdout, "usage: passage version") || !strings.Contains(stdout, "-short") {
		t.Errorf("passage version -h: exit %d, stdout %q; want 0 and the usage", code, stdout)
	}

	for _, args := range [][]string{{"version", "extra"}, {"version", "--long"}} {
		code, stdout, stderr = runArgs(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "passage: version:") != 1 {
			t.Errorf("passage %v: exit %d, stdout %q, stderr %q; want 2 and one error", args, code, stdout, stderr)
		}
	}
}
