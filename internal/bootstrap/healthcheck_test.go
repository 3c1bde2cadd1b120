package bootstrap

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A service's command probes a running server as `passage healthcheck` does, so that its own
// image, which holds it alone, can probe itself; it starts nothing.
func TestMainHealthcheck(t *testing.T) {
	code := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, map[int]string{http.StatusOK: "ready", http.StatusServiceUnavailable: "database unreachable"}[code])
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	var stdout, stderr strings.Builder
	err := realMain(t.Context(), "passage-intake", []string{"healthcheck", "--http", addr}, &stdout, &stderr, mustNotStart(t))
	if want := "http://" + addr + "/readyz: 200 ready\n"; err != nil || stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("ready: error %v, stdout %q, stderr %q; want %q", err, stdout.String(), stderr.String(), want)
	}

	code = http.StatusServiceUnavailable
	stdout.Reset()
	err = realMain(t.Context(), "passage-intake", []string{"healthcheck", "--http", addr}, &stdout, &stderr, mustNotStart(t))
	if want := "healthcheck: http://" + addr + "/readyz: 503 database unreachable"; err == nil || err.Error() != want || errors.Is(err, errUsage) || stdout.Len() != 0 {
		t.Errorf("not ready: error %v, stdout %q; want %q (Main exits 1 with it)", err, stdout.String(), want)
	}

	err = realMain(t.Context(), "passage-intake", []string{"healthcheck", "-h"}, &stdout, &stderr, mustNotStart(t))
	if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(stdout.String(), "usage: passage-intake healthcheck [--live]") || stderr.Len() != 0 {
		t.Errorf("healthcheck -h: error %v, stdout %q, stderr %q; want its usage on stdout", err, stdout.String(), stderr.String())
	}

	for _, args := range [][]string{{"healthcheck", "--service", "passage.intake.v1.IntakeService"}, {"healthcheck", "--nope"}} {
		stdout.Reset()
		stderr.Reset()
		err = realMain(t.Context(), "passage-intake", args, &stdout, &stderr, mustNotStart(t))
		if !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), "passage-intake healthcheck") || stdout.Len() != 0 {
			t.Errorf("%q: error %v, stdout %q, stderr %q; want errUsage and the reason on stderr", args, err, stdout.String(), stderr.String())
		}
	}
}

// An argument the command does not take is refused, rather than ignored while the services
// start: a misspelt `healthcheck` in a container's health check must not start a second server.
func TestMainRefusesArguments(t *testing.T) {
	var stdout, stderr strings.Builder
	err := realMain(t.Context(), "passage-intake", []string{"--dev", "healthcheks"}, &stdout, &stderr, mustNotStart(t))
	if want := "passage-intake: unexpected argument \"healthcheks\" (passage-intake -h for help)\n"; !errors.Is(err, errUsage) || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("error %v, stdout %q, stderr %q; want errUsage and %q", err, stdout.String(), stderr.String(), want)
	}
}
