package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/servetest"
)

// passage is the passage binary built from this checkout, and the server it runs.
type passage struct {
	bin    string
	dir    string // the development keys and the server's logs
	dbURL  string
	grpc   string // host:port
	health string // host:port of /readyz

	srv  *servetest.Process // the latest server started
	logs []string           // one file per start, in order
}

// buildPassage builds the passage binary into a temporary folder (internal/servetest).
func buildPassage(t *testing.T, dbURL string) *passage {
	t.Helper()
	addrs := servetest.FreeAddrs(t, 2)
	return &passage{bin: servetest.Build(t), dir: t.TempDir(), dbURL: dbURL, grpc: addrs[0], health: addrs[1]}
}

// env is the environment of every passage command: this test's database, addresses and
// development keys, and none of the caller's PASSAGE_ settings.
func (p *passage) env() []string {
	return servetest.Env("DATABASE_URL="+p.dbURL, "PASSAGE_DEV_DIR="+filepath.Join(p.dir, "dev"),
		"PASSAGE_GRPC_ADDR="+p.grpc, "PASSAGE_HTTP_ADDR="+p.health, "PASSAGE_PARTNER_HTTP_ADDR=off",
		"PASSAGE_SHUTDOWN_GRACE=3s",
		// The load is one caseworker's many workers: it measures the server, not a quota.
		"PASSAGE_QUOTA=off")
}

// run runs a passage command to its end and returns its standard output.
func (p *passage) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = p.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("passage %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// start starts `passage serve --dev` and waits until /readyz answers 200: the server listens
// and reaches its database.
func (p *passage) start(t *testing.T) {
	t.Helper()
	log := filepath.Join(p.dir, fmt.Sprintf("server-%d.log", len(p.logs)+1))
	p.logs = append(p.logs, log)
	p.srv = servetest.Start(t, "the server", p.bin, log, p.env(), "serve", "--dev")
	p.srv.WaitReady(t, p.health, 30*time.Second)
}

// kill stops the server with SIGKILL, as a crash or an OOM killer would.
func (p *passage) kill(t *testing.T) {
	t.Helper()
	p.srv.Kill(t)
}

// term stops the server with SIGTERM, as an orchestrator replacing it would, and returns how
// it exited.
func (p *passage) term(t *testing.T) error {
	t.Helper()
	exit, stopped := p.srv.Term(30 * time.Second)
	if !stopped {
		t.Fatalf("the server had not stopped 30 s after SIGTERM:\n%s", p.tail(20))
	}
	return exit
}

// tail is the last n lines the latest server wrote.
func (p *passage) tail(n int) string {
	if p.srv == nil {
		return ""
	}
	return p.srv.Tail(n)
}

// logLines returns every line the servers logged that matches.
func (p *passage) logLines(match func(line string) bool) ([]string, error) {
	var out []string
	for _, name := range p.logs {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			if match(sc.Text()) {
				out = append(out, filepath.Base(name)+": "+sc.Text())
			}
		}
		err = errors.Join(sc.Err(), f.Close())
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// waitFor polls cond until it holds or wait has passed, and reports whether it held.
func waitFor(ctx context.Context, wait time.Duration, cond func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(wait)
	for {
		ok, err := cond()
		if ok || err != nil {
			return ok, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
