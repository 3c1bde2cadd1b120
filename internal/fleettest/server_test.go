package fleettest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/passage-cm/passage/internal/retrypolicy"
	"github.com/passage-cm/passage/internal/servetest"
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
	*servetest.Process
	grpc, http string // host:port
	conn       *grpc.ClientConn
}

// newFleet builds the passage binary (internal/servetest) and readies a fleet on the
// database dbURL. When the test fails, it logs the end of every process's output once they
// are stopped.
func newFleet(t *testing.T, dbURL string) *fleet {
	t.Helper()
	f := &fleet{bin: servetest.Build(t), dbURL: dbURL, dir: t.TempDir()}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range f.servers {
				t.Logf("the last lines of %s's output:\n%s", s.Name, s.Tail(40))
			}
		}
	})
	return f
}

// devDir is where the processes share their development keys.
func (f *fleet) devDir() string { return filepath.Join(f.dir, "dev") }

// start starts one more process, every service in it, on free ports, waits until its /readyz
// answers 200, and connects to it. When the test ends, the process is stopped if it still
// runs (stop).
func (f *fleet) start(t *testing.T) *server {
	t.Helper()
	n := len(f.servers) + 1
	addrs := servetest.FreeAddrs(t, 2)
	s := &server{grpc: addrs[0], http: addrs[1]}
	s.Process = servetest.Start(t, fmt.Sprintf("process %d", n), f.bin, filepath.Join(f.dir, fmt.Sprintf("serve-%d.log", n)),
		servetest.Env("DATABASE_URL="+f.dbURL, "PASSAGE_DEV_DIR="+f.devDir(),
			"PASSAGE_GRPC_ADDR="+s.grpc, "PASSAGE_HTTP_ADDR="+s.http, "PASSAGE_PARTNER_HTTP_ADDR=off",
			"PASSAGE_LOG_LEVEL=warn", "PASSAGE_SHUTDOWN_GRACE=2s",
			// Three processes of every service on a Postgres other packages' tests share:
			// small pools. The intake processes divide their batches in flight themselves.
			"PASSAGE_DB_MAX_CONNS=4"),
		"serve", "--dev")
	// Registered after Start's own cleanup, so it runs first: Start's would SIGKILL the
	// process before SIGTERM could stop it.
	t.Cleanup(func() { f.stop(t, s) })
	f.servers = append(f.servers, s)
	s.WaitReady(t, s.http, readyWait)
	var err error
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

// stop ends s with SIGTERM if it still runs (SIGKILL after stopWait) and closes the
// connection to it.
func (f *fleet) stop(t *testing.T, s *server) {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	if !s.Running() {
		return
	}
	if _, stopped := s.Term(stopWait); !stopped {
		t.Errorf("%s had not stopped %v after SIGTERM", s.Name, stopWait)
		s.Kill(t)
	}
}
