package ociimage

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/passage-cm/passage/internal/healthcheck"
)

// testSpec is a spec of two commands whose "binaries" are small files written in dir.
func testSpec(t *testing.T, dir string) Spec {
	t.Helper()
	s := Spec{
		CABundle: []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
		Created:  time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
		Version:  "v0.0.0-20261207100000-0123456789ab",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Source:   "https://github.com/passage-cm/passage",
		Licenses: "Apache-2.0",
		OS:       "linux",
		Arch:     "amd64",
	}
	for _, name := range []string{"passage", "passage-intake"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("binary of "+name), 0o700); err != nil {
			t.Fatal(err)
		}
		s.Commands = append(s.Commands, Command{Name: name, Path: p})
	}
	return s
}

func TestBuildIsReproducible(t *testing.T) {
	// The same inputs, in two places, with different file times and modes on disk: the
	// same index digest and the same bytes in both layouts.
	var digests []v1.Hash
	var indexes [][]byte
	for i := range 2 {
		dir := t.TempDir()
		s := testSpec(t, dir)
		for _, c := range s.Commands {
			if err := os.Chtimes(c.Path, time.Now(), time.Unix(int64(i)*1e6, 0)); err != nil {
				t.Fatal(err)
			}
		}
		idx, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "oci")
		d, err := WriteLayout(out, idx)
		if err != nil {
			t.Fatal(err)
		}
		// As written: every digest, size and diff ID checked against the blobs.
		read, err := layout.ImageIndexFromPath(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Index(read); err != nil {
			t.Fatalf("not a valid index: %v", err)
		}
		raw, err := os.ReadFile(filepath.Join(out, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		digests, indexes = append(digests, d), append(indexes, raw)
	}
	if digests[0] != digests[1] || !bytes.Equal(indexes[0], indexes[1]) {
		t.Errorf("two builds of the same inputs differ: %s and %s", digests[0], digests[1])
	}
}

// imagesOf returns the descriptors of idx's images and the images, in the index's order.
func imagesOf(t *testing.T, idx v1.ImageIndex) ([]v1.Descriptor, []v1.Image) {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var images []v1.Image
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	return im.Manifests, images
}

// entry is what a runtime sees of one file of an image's flattened filesystem.
type entry struct {
	Type     byte
	Mode     int64
	UID, GID int
	Time     time.Time
	Data     string
}

func TestImageContents(t *testing.T) {
	dir := t.TempDir()
	s := testSpec(t, dir)
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	// Read back from the layout on disk, as skopeo or a runtime would.
	if _, err := WriteLayout(filepath.Join(dir, "oci"), idx); err != nil {
		t.Fatal(err)
	}
	read, err := layout.ImageIndexFromPath(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	layerImages := map[v1.Hash]int{} // how many images hold each layer
	descs, images := imagesOf(t, read)
	if len(descs) != 2 {
		t.Fatalf("index has %d images, want 2", len(descs))
	}
	for i, d := range descs {
		name := s.Commands[i].Name
		if got := d.Annotations[LabelRefName]; got != name {
			t.Errorf("image %d is named %q, want %q", i, got, name)
		}
		if d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != "amd64" {
			t.Errorf("%s: platform %+v, want linux/amd64", name, d.Platform)
		}
		cf, err := images[i].ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65532:65532" || cf.Config.Entrypoint[0] != "/usr/local/bin/"+name {
			t.Errorf("%s: user %q, entrypoint %q", name, cf.Config.User, cf.Config.Entrypoint)
		}
		if hc := cf.Config.Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/usr/local/bin/" + name, "healthcheck"}) || hc.Timeout <= healthcheck.DefaultTimeout {
			t.Errorf("%s: health check %+v, want the command's own healthcheck with a timeout above its own", name, hc)
		}
		if !cf.Created.Time.Equal(s.Created) {
			t.Errorf("%s: created %v, want the commit's time %v", name, cf.Created, s.Created)
		}
		wantLabels := map[string]string{
			LabelTitle: name, LabelVersion: s.Version, LabelRevision: s.Revision, LabelSource: s.Source,
			LabelLicenses: "Apache-2.0", LabelCreated: "2026-12-07T10:00:00Z",
		}
		if diff := cmp.Diff(wantLabels, cf.Config.Labels); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", name, diff)
		}

		// The intake binary's layer is the same blob in passage's image and in its own.
		layers, err := images[i].Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			digest, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			layerImages[digest]++
		}

		got := flatten(t, images[i])
		at := s.Created
		dirEntry := func(mode int64) entry { return entry{Type: tar.TypeDir, Mode: mode, Time: at} }
		fileEntry := func(data string) entry { return entry{Type: tar.TypeReg, Mode: 0o644, Time: at, Data: data} }
		want := map[string]entry{
			"etc":               dirEntry(0o755),
			"etc/group":         fileEntry("root:x:0:\nnonroot:x:65532:\n"),
			"etc/nsswitch.conf": fileEntry("hosts: files dns\n"),
			"etc/passwd": fileEntry("root:x:0:0:root:/root:/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
			"etc/ssl":                           dirEntry(0o755),
			"etc/ssl/certs":                     dirEntry(0o755),
			"etc/ssl/certs/ca-certificates.crt": fileEntry(string(s.CABundle)),
			"home":                              dirEntry(0o755),
			"home/nonroot":                      {Type: tar.TypeDir, Mode: 0o700, UID: 65532, GID: 65532, Time: at},
			"tmp":                               dirEntry(0o1777),
			"usr":                               dirEntry(0o755),
			"usr/local":                         dirEntry(0o755),
			"usr/local/bin":                     dirEntry(0o755),
		}
		for _, held := range Holds([]string{"passage", "passage-intake"}, name) {
			want["usr/local/bin/"+held] = entry{Type: tar.TypeReg, Mode: 0o755, Time: at, Data: "binary of " + held}
		}
		// Exactly these (the names as mutate.Extract cleans them): no shell, nothing of the
		// build machine.
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s filesystem (-want +got):\n%s", name, diff)
		}
	}
	// Three layers in all: the base and the intake binary in both images, passage's in one.
	var counts []int
	for _, n := range layerImages {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{1, 2, 2}) {
		t.Errorf("images holding each layer: %v, want [1 2 2]", counts)
	}
}

// flatten returns the files of img's filesystem as a runtime would see them: the layers
// applied in order, whiteouts honoured (go-containerregistry's mutate.Extract).
func flatten(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s carries user or group names %q/%q", h.Name, h.Uname, h.Gname)
		}
		files[h.Name] = entry{Type: h.Typeflag, Mode: h.Mode, UID: h.Uid, GID: h.Gid, Time: h.ModTime.UTC(), Data: string(data)}
	}
}

func TestDockerArchive(t *testing.T) {
	dir := t.TempDir()
	s := testSpec(t, dir)
	s.Version = "v1.2.3+dirty"
	idx, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "passage.tar")
	if err := WriteDockerArchive(file, "passage", Tag(s.Version), idx); err != nil {
		t.Fatal(err)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(file) })
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, d := range m {
		tags = append(tags, d.RepoTags...)
	}
	want := []string{"passage/passage-intake:v1.2.3-dirty", "passage/passage:v1.2.3-dirty"}
	if diff := cmp.Diff(want, tags, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("archive tags (-want +got):\n%s", diff)
	}
	// The archive's images are the layout's: the same config, hence the same image ID.
	descs, images := imagesOf(t, idx)
	for i, d := range descs {
		cfgName, err := images[i].ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		ref := "passage/" + d.Annotations[LabelRefName] + ":v1.2.3-dirty"
		var found bool
		for _, e := range m {
			if len(e.RepoTags) == 1 && e.RepoTags[0] == ref {
				found = true
				if e.Config != cfgName.String() {
					t.Errorf("%s: archive config %s, layout config %s", ref, e.Config, cfgName)
				}
			}
		}
		if !found {
			t.Errorf("%s not in the archive", ref)
		}
	}
}

func TestBuildRefusesBadSpecs(t *testing.T) {
	dir := t.TempDir()
	for name, edit := range map[string]func(*Spec){
		"no commands":        func(s *Spec) { s.Commands = nil },
		"repeated command":   func(s *Spec) { s.Commands = append(s.Commands, s.Commands[0]) },
		"command with slash": func(s *Spec) { s.Commands[0].Name = "../passage" },
		"no CA bundle":       func(s *Spec) { s.CABundle = nil },
		"no time":            func(s *Spec) { s.Created = time.Time{} },
		"no version":         func(s *Spec) { s.Version = "" },
	} {
		s := testSpec(t, dir)
		edit(&s)
		if _, err := Build(s); err == nil {
			t.Errorf("%s: built, want an error", name)
		}
	}
}

func TestTag(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3": "v1.2.3",
		"v0.0.0-20261207100000-0123456789ab+dirty": "v0.0.0-20261207100000-0123456789ab-dirty",
		"dev": "dev",
	} {
		if got := Tag(in); got != want {
			t.Errorf("Tag(%q) = %q, want %q", in, got, want)
		}
	}
}
