package fleettest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/passage-cm/passage/internal/retrypolicy"
)

// readyWait bounds how long a process may take to answer /readyz, and stopWait how long it
// may take to stop on SIGTERM.
const (
	readyWait = 30 * time.Second
	stopWait  = 15 * time.Second
)

// fleet is the passage binary, the database and development keys its processes share, and
// the processes started.
type fleet struct {
	bin, dbURL, dir string
	servers         []*server
}

// server is one `passage serve --dev` process and a gRPC connection to it.
type server struct {
	name       string
	grpc, http string // host:port
	log        string // its standard output and error
	cmd        *exec.Cmd
	exited     chan struct{} // closed once cmd.Wait has returned
	conn       *grpc.ClientConn
}

// newFleet builds the passage binary (without the race detector, see the package doc) and
// readies a fleet on the database dbURL. When the test fails, it logs the end of every
// process's output; when it ends, it stops the processes still running.
func newFleet(t *testing.T, dbURL string) *fleet {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{dbURL: dbURL, dir: t.TempDir()}
	f.bin = filepath.Join(f.dir, "passage")
	build := exec.Command("go", "build", "-o", f.bin, "./cmd/passage")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/passage: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		for _, s := range f.servers {
			f.stop(t, s)
		}
		if t.Failed() {
			for _, s := range f.servers {
				t.Logf("the last lines of %s's output:\n%s", s.name, s.tail(40))
			}
		}
	})
	return f
}

// devDir is where the processes share their development keys.
func (f *fleet) devDir() string { return filepath.Join(f.dir, "dev") }

// start starts one more process, every service in it, on free ports, waits until its /readyz
// answers 200, and connects to it.
func (f *fleet) start(t *testing.T) *server {
	t.Helper()
	addrs := freeAddrs(t, 2)
	s := &server{name: fmt.Sprintf("process %d", len(f.servers)+1), grpc: addrs[0], http: addrs[1]}
	s.log = filepath.Join(f.dir, fmt.Sprintf("serve-%d.log", len(f.servers)+1))
	out, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the process keeps its own descriptor
	s.cmd = exec.Command(f.bin, "serve", "--dev")
	s.cmd.Env = append(withoutPassage(os.Environ()), "DATABASE_URL="+f.dbURL, "PASSAGE_DEV_DIR="+f.devDir(),
		"PASSAGE_GRPC_ADDR="+s.grpc, "PASSAGE_HTTP_ADDR="+s.http, "PASSAGE_PARTNER_HTTP_ADDR=off",
		"PASSAGE_LOG_LEVEL=warn", "PASSAGE_SHUTDOWN_GRACE=2s",
		// Three processes of every service on a Postgres other packages' tests share: small
		// pools, and one group-commit batch in flight each, as several intake processes take.
		"PASSAGE_DB_MAX_CONNS=4", "PASSAGE_REGISTER_BATCHES_IN_FLIGHT=1")
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("passage serve: %v", err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	f.servers = append(f.servers, s)
	s.waitReady(t)
	s.conn, err = grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()), retrypolicy.DialOption(),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: 2 * time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withoutPassage is env without the caller's DATABASE_URL and PASSAGE_ settings.
func withoutPassage(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PASSAGE_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			out = append(out, kv)
		}
	}
	return out
}

// waitReady polls /readyz until it answers 200, failing the test if the process exits first
// or readyWait passes.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(readyWait); ; {
		if resp, err := client.Get("http://" + s.http + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("%s exited before it was ready (%v)", s.name, s.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not ready %v after it started", s.name, readyWait)
		}
	}
}

// kill ends s with SIGKILL, as a crash or the OOM killer would, and waits until it is gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", s.name, err)
	}
	<-s.exited
}

// stop ends s with SIGTERM if it still runs (SIGKILL after stopWait) and closes the
// connection to it.
func (f *fleet) stop(t *testing.T, s *server) {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopWait):
		t.Errorf("%s had not stopped %v after SIGTERM", s.name, stopWait)
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// tail is the last n lines s wrote.
func (s *server) tail(n int) string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// freeAddrs returns n distinct loopback addresses whose ports were free a moment ago: each
// port is held until all n are chosen.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}
