package faulttest

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/pgtest"
)

// cluster is a throwaway Postgres cluster run by deploy/local/postgres.sh under a name no
// other test or checkout uses; it is destroyed, data and all, when the test ends.
type cluster struct {
	root string // the repository's root, where deploy/local/postgres.sh is
	name string
	port int
	url  string // the owner's connection
}

// postgresInstalled reports whether the server binaries the script needs are installed,
// where the script looks for them: pg_config's bindir, or /usr/lib/postgresql/*/bin.
func postgresInstalled() bool {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = append(dirs, found...)
	for _, dir := range dirs {
		if executable(filepath.Join(dir, "initdb")) && executable(filepath.Join(dir, "pg_ctl")) {
			return true
		}
	}
	return false
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// repoRoot is the repository's root, two folders above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy", "local", "postgres.sh")); err != nil {
		t.Fatalf("the repository's root is not two folders up: %v", err)
	}
	return root
}

// startCluster starts a new cluster (profile test) on a free port.
func startCluster(t *testing.T, root string) *cluster {
	t.Helper()
	c := &cluster{root: root, name: "fault-" + strings.ToLower(rand.Text()[:10]), port: pgtest.FreePorts(t, 1)[0]}
	t.Cleanup(func() {
		if out, err := c.script("destroy", c.name); err != nil {
			t.Errorf("destroying cluster %s: %v\n%s", c.name, err, out)
		}
	})
	c.start(t)
	return c
}

// start starts the cluster, initialising it the first time, and waits until it accepts
// connections.
func (c *cluster) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(filepath.Join(c.root, "deploy", "local", "postgres.sh"), "start", c.name, strconv.Itoa(c.port))
	cmd.Env = append(os.Environ(), "PG_PROFILE=test")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("postgres.sh start %s %d: %v\n%s", c.name, c.port, err, stderr.String())
	}
	c.url = strings.TrimSpace(string(out))
}

// crash stops the cluster in immediate mode: its backends are killed, nothing is written at
// shutdown, and the next start recovers from the WAL, as after a crash.
func (c *cluster) crash(t *testing.T) {
	t.Helper()
	if out, err := c.script("crash", c.name); err != nil {
		t.Fatalf("postgres.sh crash %s: %v\n%s", c.name, err, out)
	}
}

// script runs deploy/local/postgres.sh with args and returns what it said.
func (c *cluster) script(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.root, "deploy", "local", "postgres.sh"), args...)
	return cmd.CombinedOutput()
}
