// Command ocibuild makes Passage's OCI images from the static binaries `make image` built,
// with no container engine: an OCI image layout (one image per command, named by
// org.opencontainers.image.ref.name) and, with -archive, the same images as one `docker save`
// archive for `docker load` and `podman load`. It prints the index's digest.
//
// The version (which `make image` stamped into the binaries too), the commit and
// SOURCE_DATE_EPOCH (the commit's time, every file's time) are given; the platform comes from
// the passage binary's own build information. Every binary must have been built with
// CGO_ENABLED=0 and -trimpath.
//
//	SOURCE_DATE_EPOCH=SECONDS ocibuild -bin DIR -out DIR -version V [-revision COMMIT]
//		[-archive FILE] [-ca FILE] [-repo NAME] [-source URL] [-licenses SPDX]
package main

import (
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/passage-cm/passage/internal/ociimage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ocibuild:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ocibuild", flag.ContinueOnError)
	bin := fs.String("bin", "", "directory of the static binaries, one image per file")
	out := fs.String("out", "", "the OCI image layout directory to write (replaced)")
	archive := fs.String("archive", "", "also write the images as a `docker save` archive here")
	ca := fs.String("ca", "/etc/ssl/certs/ca-certificates.crt", "the PEM CA bundle to install (Debian's ca-certificates)")
	repo := fs.String("repo", "ghcr.io/passage-cm", "the repository prefix of the archive's tags: REPO/NAME:VERSION")
	version := fs.String("version", "", "the version the binaries were stamped with (org.opencontainers.image.version, the archive's tag)")
	revision := fs.String("revision", "", "the source commit (org.opencontainers.image.revision)")
	source := fs.String("source", ociimage.DefaultSource, "the org.opencontainers.image.source label")
	licenses := fs.String("licenses", ociimage.DefaultLicenses, "the org.opencontainers.image.licenses label (SPDX)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *out == "" || *version == "" || fs.NArg() > 0 {
		return errors.New("usage: SOURCE_DATE_EPOCH=SECONDS ocibuild -bin DIR -out DIR -version V [-revision COMMIT] [-archive FILE] [flags]")
	}
	spec, err := specFor(*bin, *ca, os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	spec.Version, spec.Revision, spec.Source, spec.Licenses = *version, *revision, *source, *licenses
	idx, err := ociimage.Build(spec)
	if err != nil {
		return err
	}
	digest, err := ociimage.WriteLayout(*out, idx)
	if err != nil {
		return err
	}
	if *archive != "" {
		if err := ociimage.WriteDockerArchive(*archive, *repo, ociimage.Tag(spec.Version), idx); err != nil {
			return err
		}
	}
	fmt.Println(digest)
	return nil
}

// specFor reads the binaries in dir, the platform the passage binary was built for, and the
// CA bundle; sourceDateEpoch is the files' time in seconds.
func specFor(dir, caFile, sourceDateEpoch string) (ociimage.Spec, error) {
	var spec ociimage.Spec
	entries, err := os.ReadDir(dir)
	if err != nil {
		return spec, err
	}
	var serve map[string]string // the passage binary's build settings
	for _, e := range entries { // ReadDir sorts by name
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		set, err := staticSettings(p)
		if err != nil {
			return spec, err
		}
		if e.Name() == ociimage.ServeCommand {
			serve = set
		}
		spec.Commands = append(spec.Commands, ociimage.Command{Name: e.Name(), Path: p})
	}
	if serve == nil {
		return spec, fmt.Errorf("%s: no %s binary", dir, ociimage.ServeCommand)
	}
	spec.OS, spec.Arch = serve["GOOS"], serve["GOARCH"]
	if sourceDateEpoch == "" {
		return spec, errors.New("SOURCE_DATE_EPOCH is unset (make image sets it to the commit's time)")
	}
	secs, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
	if err != nil {
		return spec, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
	}
	spec.Created = time.Unix(secs, 0).UTC()
	if spec.CABundle, err = os.ReadFile(caFile); err != nil {
		return spec, err
	}
	return spec, nil
}

// staticSettings returns the build settings the binary at path records (`go version -m`),
// and refuses a binary that was built with cgo (dynamically linked: it would not run on an
// image without a C library) or without -trimpath (it would carry build paths).
func staticSettings(path string) (map[string]string, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	if set["CGO_ENABLED"] != "0" || set["-trimpath"] != "true" {
		return nil, fmt.Errorf("%s: built with CGO_ENABLED=1 or without -trimpath", path)
	}
	return set, nil
}
