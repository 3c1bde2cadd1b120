package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user every image runs as, and where things are in its filesystem.
const (
	UID          = 65532
	GID          = 65532
	UserName     = "nonroot"
	User         = "65532:65532"
	Home         = "/home/nonroot"
	BinDir       = "/usr/local/bin"
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
)

// Ports are the ports the images expose: gRPC, then /healthz, /readyz and /metrics, then the
// partners' HTTP/JSON gateway. The images' environment makes the server listen on them on
// every interface (its own defaults are loopback, useless in a container).
var Ports = []string{"7070/tcp", "7080/tcp", "7090/tcp"}

// Env is the images' environment, in order.
var Env = []string{
	"PATH=" + BinDir,
	"PASSAGE_GRPC_ADDR=:7070",
	"PASSAGE_HTTP_ADDR=:7080",
	"PASSAGE_PARTNER_HTTP_ADDR=:7090",
}

// The source and licence labels' values for Passage's own images.
const (
	DefaultSource   = "https://github.com/passage-cm/passage"
	DefaultLicenses = "Apache-2.0"
)

// ServeCommand is the command whose image runs `serve` when given no arguments, and holds
// every command (Holds).
const ServeCommand = "passage"

// Holds returns the commands name's image holds, of those built: all of them for
// ServeCommand (so one image runs any service by its command's name, as the Kubernetes
// manifests do), else name alone. Each binary is a layer of its own, shared by the images
// that hold it, so a registry or a node stores it once.
func Holds(commands []string, name string) []string {
	if name == ServeCommand {
		return commands
	}
	return []string{name}
}

// Label keys, from the OCI image specification's pre-defined annotations.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelLicenses = "org.opencontainers.image.licenses"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	// LabelRefName names each image of the index in an OCI layout (what `skopeo copy
	// oci:DIR:NAME` and `crane` select by).
	LabelRefName = "org.opencontainers.image.ref.name"
)

// Command is one binary to make an image of.
type Command struct {
	// Name is the command's name (passage, passage-intake, …): the file's name in BinDir and
	// the image's name in the index.
	Name string
	// Path is the statically linked binary on this machine.
	Path string
}

// Spec is everything an image build reads: nothing else (no clock, no environment, no
// file other than those named) enters the images.
type Spec struct {
	Commands []Command
	// CABundle is the PEM bundle installed at CABundlePath.
	CABundle []byte
	// Created is every file's time and the images' creation time: the source commit's.
	Created time.Time
	// Version, Revision, Source and Licenses are the OCI labels' values.
	Version, Revision, Source, Licenses string
	// OS and Arch are the platform the binaries were built for (GOOS, GOARCH).
	OS, Arch string
}

func (s Spec) check() error {
	if len(s.Commands) == 0 {
		return fmt.Errorf("no command to make an image of")
	}
	seen := map[string]bool{}
	for _, c := range s.Commands {
		if c.Name == "" || strings.ContainsAny(c.Name, "/:") || seen[c.Name] {
			return fmt.Errorf("command name %q: empty, repeated or not a plain file name", c.Name)
		}
		seen[c.Name] = true
	}
	if len(s.CABundle) == 0 {
		return fmt.Errorf("empty CA bundle")
	}
	if s.Created.IsZero() {
		return fmt.Errorf("no creation time (the source commit's)")
	}
	if s.Version == "" || s.OS == "" || s.Arch == "" {
		return fmt.Errorf("version, OS and architecture are required")
	}
	return nil
}

// Config is the runtime configuration of name's image: the user, the entrypoint (the
// binary), the environment, the working directory, the ports, the health check and the
// labels.
func Config(s Spec, name string) v1.Config {
	bin := path.Join(BinDir, name)
	cfg := v1.Config{
		User:       User,
		Entrypoint: []string{bin},
		// Docker's HEALTHCHECK (Kubernetes ignores it and probes /healthz and /readyz itself):
		// the image's command runs its own `healthcheck`, which asks /readyz on loopback
		// (internal/healthcheck), since the images hold no shell or HTTP client. Its timeout is
		// above the command's own (3s), so the command, not the runtime, says why.
		Healthcheck: &v1.HealthConfig{
			Test:        []string{"CMD", bin, "healthcheck"},
			Interval:    10 * time.Second,
			Timeout:     5 * time.Second,
			StartPeriod: 30 * time.Second,
			Retries:     3,
		},
		Env:          slices.Clone(Env),
		WorkingDir:   Home,
		ExposedPorts: map[string]struct{}{},
		Labels: map[string]string{
			LabelTitle:    name,
			LabelVersion:  s.Version,
			LabelCreated:  s.Created.UTC().Format(time.RFC3339),
			LabelSource:   s.Source,
			LabelRevision: s.Revision,
			LabelLicenses: s.Licenses,
		},
	}
	if name == ServeCommand {
		cfg.Cmd = []string{"serve"}
	}
	for _, p := range Ports {
		cfg.ExposedPorts[p] = struct{}{}
	}
	for k, v := range cfg.Labels {
		if v == "" {
			delete(cfg.Labels, k)
		}
	}
	return cfg
}

// Build assembles one image per command and returns them in an index, in the commands' order,
// each annotated with its name (LabelRefName): the base layer, then a layer per command the
// image holds (Holds).
func Build(s Spec) (v1.ImageIndex, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	created := s.Created.UTC().Truncate(time.Second)
	base, err := layer(baseFiles(s.CABundle), created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	var names []string
	binLayers := map[string]v1.Layer{}
	for _, c := range s.Commands {
		bin, err := os.ReadFile(c.Path)
		if err != nil {
			return nil, err
		}
		l, err := layer([]file{{name: path.Join(BinDir, c.Name)[1:], mode: 0o755, data: bin}}, created)
		if err != nil {
			return nil, fmt.Errorf("%s layer: %w", c.Name, err)
		}
		names, binLayers[c.Name] = append(names, c.Name), l
	}
	var idx v1.ImageIndex = empty.Index
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	for _, name := range names {
		adds := []mutate.Addendum{{Layer: base, MediaType: types.OCILayer, History: v1.History{
			Created: v1.Time{Time: created}, CreatedBy: "passage ociimage: base (user 65532, CA certificates, /tmp, " + Home + ")"}}}
		for _, held := range Holds(names, name) {
			adds = append(adds, mutate.Addendum{Layer: binLayers[held], MediaType: types.OCILayer, History: v1.History{
				Created: v1.Time{Time: created}, CreatedBy: "passage ociimage: " + path.Join(BinDir, held)}})
		}
		img, err := image(s, name, created, adds)
		if err != nil {
			return nil, fmt.Errorf("%s image: %w", name, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform:    &v1.Platform{OS: s.OS, Architecture: s.Arch},
				Annotations: map[string]string{LabelRefName: name},
			},
		})
	}
	return idx, nil
}

func image(s Spec, name string, created time.Time, layers []mutate.Addendum) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.Append(img, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = s.OS, s.Arch
	cf.Config = Config(s, name)
	return mutate.ConfigFile(img, cf)
}

// file is one entry of a layer: a directory when dir is set, else a regular file.
type file struct {
	name     string // relative to the root, no leading slash
	dir      bool
	mode     int64
	uid, gid int
	data     []byte
}

// TextFiles are the base's small text files, by path: the user and group databases naming
// root and the non-root user (whose shell, /sbin/nologin, does not exist: there is no shell),
// and the name service order Go's resolver reads. The Dockerfile writes the same.
func TextFiles() map[string]string {
	return map[string]string{
		"/etc/group":         fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, GID),
		"/etc/nsswitch.conf": "hosts: files dns\n",
		"/etc/passwd": fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n",
			UserName, UID, GID, UserName, Home),
	}
}

// baseFiles is what every image holds besides its binary: the directories, TextFiles and the
// CA bundle.
func baseFiles(caBundle []byte) []file {
	files := []file{
		{name: "etc", dir: true, mode: 0o755},
		{name: "etc/ssl", dir: true, mode: 0o755},
		{name: "etc/ssl/certs", dir: true, mode: 0o755},
		{name: CABundlePath[1:], mode: 0o644, data: caBundle},
		{name: "home", dir: true, mode: 0o755},
		{name: Home[1:], dir: true, mode: 0o700, uid: UID, gid: GID},
		{name: "tmp", dir: true, mode: 0o1777},
		{name: "usr", dir: true, mode: 0o755},
		{name: "usr/local", dir: true, mode: 0o755},
		{name: BinDir[1:], dir: true, mode: 0o755},
	}
	for p, text := range TextFiles() {
		files = append(files, file{name: p[1:], mode: 0o644, data: []byte(text)})
	}
	return files // layer sorts them
}

// layer writes files, sorted by name, as a gzip-compressed tar with fixed times and no
// user or group names, and returns it as an OCI layer.
func layer(files []file, created time.Time) (v1.Layer, error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		h := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.gid,
			ModTime: created,
			Format:  tar.FormatUSTAR,
		}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, f.name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	// Compress here rather than in go-containerregistry, so that the gzip header (no name,
	// no time) and level are this package's choice.
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(zw, &raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	compressed := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// WriteLayout writes idx as an OCI image layout in dir, replacing whatever dir held, and
// returns the index's digest (that of dir/index.json).
func WriteLayout(dir string, idx v1.ImageIndex) (v1.Hash, error) {
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

// WriteDockerArchive writes idx's images as one `docker save` archive at file, which `docker
// load` and `podman load` read, each image tagged REPO/NAME:TAG where REPO is repo and NAME
// its command.
func WriteDockerArchive(file, repo, tag string, idx v1.ImageIndex) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		ref, err := name.NewTag(repo + "/" + d.Annotations[LabelRefName] + ":" + tag)
		if err != nil {
			return err
		}
		refs[ref] = img
	}
	return tarball.MultiRefWriteToFile(file, refs)
}

// Tag turns a Go module version into an image tag: the characters tags refuse ("+" in
// "+dirty") become "-".
func Tag(version string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, version)
}
