package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofDevelopmentAndLoopbackOnly: the profiler answers without a token, so it is never
// served outside --dev nor on an address other machines reach.
func TestPprofDevelopmentAndLoopbackOnly(t *testing.T) {
	t.Parallel()
	if err := serve(context.Background(), []string{"--pprof", "127.0.0.1:0"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--dev") {
		t.Errorf("serve --pprof without --dev: %v, want refused", err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.0.0.1:6060", "example.org:6060", "nonsense"} {
		if _, stop, err := servePprof(context.Background(), addr); err == nil {
			stop()
			t.Errorf("servePprof(%q) listens, want refused", addr)
		}
	}
	_, stop, err := servePprof(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop()
}

// TestPprofServes: on a loopback address the profiles are there.
func TestPprofServes(t *testing.T) {
	t.Parallel()
	addr, stop, err := servePprof(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "heap profile") {
		t.Errorf("heap profile: %d %.80q", resp.StatusCode, b)
	}
}
