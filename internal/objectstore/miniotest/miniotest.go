package miniotest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/passage-cm/passage/internal/objectstore"
)

// server is the MinIO the test binary runs, started once.
var server struct {
	once  sync.Once
	err   error
	dir   string
	cmd   *exec.Cmd
	s     objectstore.Settings // Bucket empty
	admin *minio.Client        // the server's root user, to make buckets
	skip  string               // why the tests skip, when PASSAGE_TEST_S3=skip allows it
}

// Main runs the tests and then stops the server, if one was started; a test binary whose
// tests call Bucket runs its tests through it: func TestMain(m *testing.M) { os.Exit(miniotest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// Bucket creates an empty bucket of its own for t on the test binary's MinIO (starting it
// if need be) and returns it opened as the server opens its bucket, with its settings.
func Bucket(t testing.TB) (*objectstore.Bucket, objectstore.Settings) {
	t.Helper()
	server.once.Do(start)
	if server.skip != "" {
		t.Skip(server.skip)
	}
	if server.err != nil {
		t.Fatalf("miniotest: %v", server.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := server.s
	s.Bucket = "test-" + randomHex(8)
	if err := server.admin.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("miniotest: make bucket: %v", err)
	}
	b, err := objectstore.Open(ctx, s, false)
	if err != nil {
		t.Fatalf("miniotest: open bucket: %v", err)
	}
	return b, s
}

// binary is the MinIO binary: PASSAGE_MINIO_BIN, or .cache/minio/minio in the repository.
func binary() (string, error) {
	if p := os.Getenv("PASSAGE_MINIO_BIN"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
				return filepath.Join(dir, ".cache", "minio", "minio"), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the repository's root (go.work) was not found above the working directory")
		}
		dir = parent
	}
}

// start starts the server, or says why it did not in server.err or server.skip.
func start() {
	bin, err := binary()
	if err != nil {
		server.err = err
		return
	}
	if _, err := os.Stat(bin); err != nil {
		why := fmt.Sprintf("MinIO is not built at %s: run deploy/local/minio.sh build (once; it is cached), or set PASSAGE_MINIO_BIN", bin)
		if os.Getenv("PASSAGE_TEST_S3") == "skip" {
			server.skip = "SKIPPING THE S3 STORE'S TESTS (PASSAGE_TEST_S3=skip): " + why
			return
		}
		server.err = errors.New(why + "; PASSAGE_TEST_S3=skip skips these tests on a machine that cannot build it")
		return
	}
	server.err = run(bin)
}

// run starts bin on a free loopback port with TLS and waits until it answers.
func run(bin string) error {
	dir, err := os.MkdirTemp(dataRoot(), "passage-minio-")
	if err != nil {
		dir, err = os.MkdirTemp("", "passage-minio-")
	}
	if err != nil {
		return err
	}
	server.dir = dir
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	certs := filepath.Join(dir, "certs")
	caFile, err := writeCertificate(certs)
	if err != nil {
		return err
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	user, pass := "passage-"+randomHex(4), randomHex(16)
	accessFile, secretFile := filepath.Join(dir, "access-key"), filepath.Join(dir, "secret-key")
	if err := os.WriteFile(accessFile, []byte(user+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(secretFile, []byte(pass+"\n"), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"), "--address", addr, "--certs-dir", certs, "--quiet")
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+user, "MINIO_ROOT_PASSWORD="+pass,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
	log, err := os.Create(filepath.Join(dir, "minio.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	server.cmd = cmd
	server.s = objectstore.Settings{Endpoint: "https://" + addr, Region: "us-east-1", AccessKeyFile: accessFile,
		SecretKeyFile: secretFile, CAFile: caFile}
	server.admin, err = minio.New(addr, &minio.Options{
		Creds: credentials.NewStaticV4(user, pass, ""), Secure: true, Region: server.s.Region,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
	})
	if err != nil {
		return err
	}
	return waitLive(addr, roots, filepath.Join(dir, "minio.log"))
}

// waitLive waits for the server's liveness endpoint, served under a certificate of roots, a
// minute at most.
func waitLive(addr string, roots *x509.CertPool, logFile string) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := c.Get("https://" + addr + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if server.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := os.ReadFile(logFile)
	return fmt.Errorf("MinIO did not answer on %s within a minute; its log:\n%s", addr, out)
}

// stop stops the server and deletes its data.
func stop() {
	if server.cmd != nil && server.cmd.Process != nil {
		_ = server.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = server.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = server.cmd.Process.Kill()
			<-done
		}
	}
	if server.dir != "" {
		_ = os.RemoveAll(server.dir)
	}
}

// dataRoot is the folder the server's data goes under: /dev/shm, a memory filesystem, when
// the machine has one with room (a container's may hold only 64 MiB), else the temporary
// folder (as is run's fallback when /dev/shm cannot be written). MinIO refuses every write, "Storage backend has reached its minimum free drive
// threshold", once its drive would be more than 99% full after the write, and the tests' few
// kilobytes should not fail because a build machine's disk is nearly full of other things.
func dataRoot() string {
	const shm, room = "/dev/shm", 256 << 20
	var fs syscall.Statfs_t
	if err := syscall.Statfs(shm, &fs); err != nil || fs.Bavail*uint64(fs.Bsize) < room {
		return ""
	}
	return shm
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// writeCertificate writes a self-signed certificate for 127.0.0.1 where MinIO looks for its
// own (dir/public.crt, dir/private.key) and returns the certificate's file, to trust.
func writeCertificate(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "passage-minio-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	crt := filepath.Join(dir, "public.crt")
	if err := os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", err
	}
	return crt, os.WriteFile(filepath.Join(dir, "private.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
