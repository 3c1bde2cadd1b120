package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/passage-cm/passage/internal/ociimage"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/servetest"
)

// builtImages opens the OCI layout `make image` wrote, named by PASSAGE_IMAGE. Building the
// images takes minutes (nine static binaries), too long for every `go test ./...`:
// `make image-test` builds them and runs this package with PASSAGE_IMAGE set.
func builtImages(t *testing.T) map[string]v1.Image {
	t.Helper()
	dir := os.Getenv("PASSAGE_IMAGE")
	if dir == "" {
		t.Skip("PASSAGE_IMAGE is unset: `make image-test` builds the images and runs this test on them")
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]v1.Image{}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		images[d.Annotations[ociimage.LabelRefName]] = img
	}
	return images
}

func TestImagesRunTheirCommand(t *testing.T) {
	images := builtImages(t)
	names := slices.Sorted(maps.Keys(images))
	if diff := cmp.Diff(serverCommands(t), names); diff != "" {
		t.Fatalf("images in the layout (-want +got):\n%s", diff)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := configOf(t, images[name])
			if cfg.User != ociimage.User || !slices.Equal(cfg.Entrypoint, []string{ociimage.BinDir + "/" + name}) {
				t.Errorf("user %q, entrypoint %q", cfg.User, cfg.Entrypoint)
			}
			version := cfg.Labels[ociimage.LabelVersion]
			if version == "" || cfg.Labels[ociimage.LabelRevision] == "" {
				t.Errorf("labels %v: no version or revision", cfg.Labels)
			}
			root := unpack(t, images[name])
			checkTree(t, root, ociimage.Holds(names, name))

			args := []string{"--version"}
			if name == ociimage.ServeCommand {
				args = []string{"version"}
			}
			out, err := command(t.Context(), root, cfg, nil, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s in the image: %v\n%s", name, args[0], err, out)
			}
			// The binary says the version the image's label says.
			if first, _, _ := strings.Cut(string(out), "\n"); first != name+" "+version {
				t.Errorf("%s %s printed %q, want %q", name, args[0], first, name+" "+version)
			}
			// The image's health check is its own command: with nothing listening it fails.
			hc := healthcheckArgs(t, cfg)
			out, err = command(t.Context(), root, cfg, []string{"PASSAGE_HTTP_ADDR=" + servetest.FreeAddrs(t, 1)[0]}, hc...).CombinedOutput()
			if exitCode(err) != 1 || !strings.Contains(string(out), "connect: connection refused") {
				t.Errorf("%s %s with nothing listening: %v, want exit 1 and the connection refused\n%s", name, strings.Join(hc, " "), err, out)
			}
			if name == ociimage.ServeCommand {
				checkServes(t, root, cfg)
			}
		})
	}
}

// checkServes runs, from passage's unpacked image at root, `passage migrate up` on a
// throwaway database and `passage serve --dev` on it, until /healthz and /readyz answer 200,
// runs the image's health check (`passage healthcheck`), then stops it with SIGTERM.
func checkServes(t *testing.T, root string, cfg v1.Config) {
	t.Helper()
	db := pgtest.Empty(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if out, err := command(ctx, root, cfg, []string{"DATABASE_URL=" + db}, "migrate", "up").CombinedOutput(); err != nil {
		t.Fatalf("passage migrate up in the image: %v\n%s", err, out)
	}

	addrs := servetest.FreeAddrs(t, 2)
	grpcAddr, httpAddr := addrs[0], addrs[1]
	env := []string{
		"DATABASE_URL=" + db,
		"PASSAGE_GRPC_ADDR=" + grpcAddr,
		"PASSAGE_HTTP_ADDR=" + httpAddr,
		"PASSAGE_PARTNER_HTTP_ADDR=off",
	}
	// --dev writes its development keys in the working directory, the user's home: this also
	// shows the home is the user's to write.
	serve := command(ctx, root, cfg, env, "serve", "--dev")
	var logs bytes.Buffer
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = serve.Process.Kill()
			<-exited
		}
	}()

	// /readyz answers 200 once the server reaches its database from inside the image's
	// filesystem; until then the connection is refused or it answers 503.
	for _, path := range []string{"/healthz", "/readyz"} {
		for {
			resp, err := http.Get("http://" + httpAddr + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case err := <-exited:
				stopped = true
				t.Fatalf("passage serve exited before %s answered: %v\n%s", path, err, logs.String())
			case <-ctx.Done():
				t.Fatalf("%s never answered 200: %v\n%s", path, err, logs.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	// The image's health check, run from its own filesystem as its user, finds it ready.
	hc := healthcheckArgs(t, cfg)
	out, err := command(ctx, root, cfg, env, hc...).CombinedOutput()
	if want := "http://" + httpAddr + "/readyz: 200 ready\n"; err != nil || string(out) != want {
		t.Errorf("passage %s in the image: %v, output %q; want exit 0 and %q", strings.Join(hc, " "), err, out, want)
	}
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	stopped = true
	if err != nil {
		t.Errorf("passage serve, stopped with SIGTERM: %v\n%s", err, logs.String())
	}
	keys, err := os.Stat(filepath.Join(root, ociimage.Home, ".passage"))
	if err != nil {
		t.Fatalf("no development keys in the user's home: %v", err)
	}
	// Chrooted, the server ran as the image's user, not as the test's root.
	if st, ok := keys.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && st.Uid != ociimage.UID {
		t.Errorf("the development keys belong to uid %d, want the image's user %d", st.Uid, ociimage.UID)
	}
}

// healthcheckArgs returns the arguments the image's health check gives its entrypoint: its
// test must run the image's own command, in the exec form (there is no shell).
func healthcheckArgs(t *testing.T, cfg v1.Config) []string {
	t.Helper()
	hc := cfg.Healthcheck
	if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" || hc.Test[1] != cfg.Entrypoint[0] {
		t.Fatalf("health check %+v: want [CMD %s …]", hc, cfg.Entrypoint[0])
	}
	return hc.Test[2:]
}

// exitCode is the exit status of a command that ran (0 when err is nil), -1 when it did not.
func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}

func configOf(t *testing.T, img v1.Image) v1.Config {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.Config
}

// unpack writes img's filesystem into a new directory as a runtime does: its layers in order,
// whiteouts honoured (go-containerregistry's mutate.Extract flattens them: the upper layer's
// entry wins), modes and times
// kept, and, when the test runs as root, owners too.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	asRoot := os.Geteuid() == 0
	for h, err := tr.Next(); !errors.Is(err, io.EOF); h, err = tr.Next() {
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean("/" + h.Name)
		if name == "/" {
			continue
		}
		p := filepath.Join(root, name)
		mode := h.FileInfo().Mode()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			// mutate.Extract gives the top layer first: a file may come before its
			// directory, whose own entry then sets its mode.
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: entry of type %q; the images hold only directories and regular files", h.Name, h.Typeflag)
		}
		if err := os.Chmod(p, mode.Perm()|mode&(fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid)); err != nil {
			t.Fatal(err)
		}
		if asRoot {
			if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(p, h.ModTime, h.ModTime); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// checkTree checks that root holds the base and the commands' binaries and nothing else (no
// shell, no package manager, nothing of the build machine), with the modes and owners a
// non-root user needs, static binaries and a CA bundle that parses.
func checkTree(t *testing.T, root string, commands []string) {
	t.Helper()
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[rel] = info.Mode()
		if st, ok := info.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			wantUID := uint32(0)
			if "/"+rel == ociimage.Home {
				wantUID = ociimage.UID
			}
			if st.Uid != wantUID || st.Gid != wantUID {
				t.Errorf("%s owned by %d:%d, want %d:%d", rel, st.Uid, st.Gid, wantUID, wantUID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := fs.ModeDir | 0o755
	want := map[string]fs.FileMode{
		"etc": dir, "etc/group": 0o644, "etc/nsswitch.conf": 0o644, "etc/passwd": 0o644,
		"etc/ssl": dir, "etc/ssl/certs": dir, "etc/ssl/certs/ca-certificates.crt": 0o644,
		"home": dir, "home/nonroot": fs.ModeDir | 0o700,
		"tmp": fs.ModeDir | fs.ModeSticky | 0o777,
		"usr": dir, "usr/local": dir, "usr/local/bin": dir,
	}
	for _, name := range commands {
		want["usr/local/bin/"+name] = 0o755
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the image's files and modes (-want +got):\n%s", diff)
	}

	for _, name := range commands {
		bin, err := elf.Open(filepath.Join(root, "usr/local/bin", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range bin.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked (program header %v): it needs a C library the image lacks", name, p.Type)
			}
		}
		bin.Close()
	}

	pem, err := os.ReadFile(filepath.Join(root, ociimage.CABundlePath))
	if err != nil {
		t.Fatal(err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		t.Error("the CA bundle holds no certificate")
	}
}

// command runs the image's entrypoint with args as a runtime would, up to what a test can do
// without one: as root, chrooted into the unpacked filesystem, as the image's user (65532),
// in its working directory, with its environment and env; otherwise (no chroot for an
// ordinary user) the binary is run from the unpacked tree, its working directory and CA
// bundle (SSL_CERT_FILE) taken from there. Neither has a runtime's namespaces or cgroups.
func command(ctx context.Context, root string, cfg v1.Config, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(root, cfg.Entrypoint[0]))
	cmd.Args = append([]string{cfg.Entrypoint[0]}, args...)
	cmd.Env = append(slices.Clone(cfg.Env), env...)
	if os.Geteuid() == 0 {
		cmd.Path, cmd.Dir = cfg.Entrypoint[0], cfg.WorkingDir
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: ociimage.UID, Gid: ociimage.GID, Groups: []uint32{}},
		}
	} else {
		cmd.Path, cmd.Dir = filepath.Join(root, cfg.Entrypoint[0]), filepath.Join(root, cfg.WorkingDir)
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+filepath.Join(root, ociimage.CABundlePath))
	}
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	return cmd
}
