package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// passage is the passage binary built from this checkout, and the server it runs.
type passage struct {
	bin    string
	dir    string // the development keys and the server's logs
	dbURL  string
	grpc   string // host:port
	health string // host:port of /readyz

	cmd    *exec.Cmd
	exited chan struct{}
	err    error    // the process's exit, once exited is closed
	logs   []string // one file per start, in order
}

// buildPassage builds the passage binary into a temporary folder. Without the race detector
// even when the test has it: a server built with it spends several times the CPU per call and
// takes seconds longer to link, which on a shared machine would stretch the test towards a
// minute; the server's packages run their own tests under it.
func buildPassage(t *testing.T, root, dbURL string) *passage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the server: %v", err)
	}
	dir := t.TempDir()
	p := &passage{bin: filepath.Join(dir, "passage"), dir: dir, dbURL: dbURL,
		grpc: "127.0.0.1:" + strconv.Itoa(freePort(t)), health: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	build := exec.Command(goTool, "build", "-o", p.bin, "./cmd/passage")
	build.Dir = root
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/passage: %v\n%s", err, out)
	}
	t.Logf("built passage in %v", time.Since(start).Round(100*time.Millisecond))
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// env is the environment of every passage command: this test's database, addresses and
// development keys, and none of the caller's PASSAGE_ settings.
func (p *passage) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PASSAGE_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return append(env, "DATABASE_URL="+p.dbURL, "PASSAGE_DEV_DIR="+filepath.Join(p.dir, "dev"),
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

// start starts `passage serve --dev` and waits until /readyz answers 200.
func (p *passage) start(t *testing.T) {
	t.Helper()
	log, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("server-%d.log", len(p.logs)+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close() // the child holds its own copy
	p.logs = append(p.logs, log.Name())
	p.cmd = exec.Command(p.bin, "serve", "--dev")
	p.cmd.Env = p.env()
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("passage serve: %v", err)
	}
	p.exited = make(chan struct{})
	cmd, exited := p.cmd, p.exited
	go func() {
		p.err = cmd.Wait()
		close(exited)
	}()
	p.waitReady(t)
}

func (p *passage) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitReady waits until /readyz answers 200: the server listens and reaches its database.
func (p *passage) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + p.health + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if !p.running() {
			t.Fatalf("the server exited before it was ready (%v):\n%s", p.err, p.tail(20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server was not ready 30 s after it started:\n%s", p.tail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL, as a crash or an OOM killer would.
func (p *passage) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-p.exited
}

// term stops the server with SIGTERM, as an orchestrator replacing it would, and returns how
// it exited.
func (p *passage) term(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(30 * time.Second):
		t.Fatalf("the server had not stopped 30 s after SIGTERM:\n%s", p.tail(20))
		return nil
	}
}

// tail is the last n lines the latest server wrote.
func (p *passage) tail(n int) string {
	if len(p.logs) == 0 {
		return ""
	}
	b, err := os.ReadFile(p.logs[len(p.logs)-1])
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
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
