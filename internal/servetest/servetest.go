package servetest

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/pgtest"
)

// Build builds ./cmd/passage into a temporary folder and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the server: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "passage")
	start := time.Now()
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/passage-cm/passage/cmd/passage").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/passage: %v\n%s", err, out)
	}
	t.Logf("built passage in %v", time.Since(start).Round(100*time.Millisecond))
	return bin
}

// Env is this process's environment without DATABASE_URL and the PASSAGE_ settings, and with
// settings added.
func Env(settings ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PASSAGE_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return append(env, settings...)
}

// FreeAddrs returns n distinct loopback addresses whose ports were free a moment ago
// (pgtest.FreePorts).
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var addrs []string
	for _, port := range pgtest.FreePorts(t, n) {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	return addrs
}

// Process is one passage command started by Start.
type Process struct {
	// Name names it in failures ("the server", "process 2").
	Name string
	// Log is the file that holds its standard output and error.
	Log string

	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how it exited, once exited is closed
}

// Start starts bin with args and env, its output going to the file log, and kills it when
// the test ends if it still runs then.
func Start(t testing.TB, name, bin, log string, env []string, args ...string) *Process {
	t.Helper()
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the process holds its own copy
	p := &Process{Name: name, Log: log, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: passage %s: %v", name, strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if p.Running() {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// WaitReady polls http://httpAddr/readyz until it answers 200, and fails the test with the
// end of the process's output if it exits first or wait passes.
func (p *Process) WaitReady(t testing.TB, httpAddr string, wait time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(wait); ; {
		if resp, err := client.Get("http://" + httpAddr + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready (%v):\n%s", p.Name, p.err, p.Tail(20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not ready %v after it started:\n%s", p.Name, wait, p.Tail(20))
		}
	}
}

// Kill ends the process with SIGKILL, as a crash or the OOM killer would, and waits until
// it is gone.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", p.Name, err)
	}
	<-p.exited
}

// Term sends the process SIGTERM, as an orchestrator replacing it would, and waits at most
// wait for it to exit: it returns how it exited, and whether it did in time. One that did
// not is left running (Kill ends it).
func (p *Process) Term(wait time.Duration) (exit error, stopped bool) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err, true
	case <-time.After(wait):
		return nil, false
	}
}

// Tail is the last n lines the process wrote.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
