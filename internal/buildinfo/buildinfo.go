package buildinfo

import (
	"io"
	"runtime/debug"
	"strconv"
	"strings"
)

// override, when set at link time with
//
//	go build -ldflags "-X github.com/passage-cm/passage/internal/buildinfo.override=v1.2.3"
//
// replaces the module version the toolchain recorded (a release pipeline that builds outside
// a tagged checkout, say).
var override string

// devVersion is the version of a build that carries none: `go run`, `go test`, or a build
// without version control information.
const devVersion = "dev"

// Info is what a binary knows about its own build.
type Info struct {
	// Version is the module version: the link-time override if any, else the one the Go
	// toolchain derived from the version-control tag or commit ("v0.0.0-<time>-<commit>",
	// "+dirty" when the tree was modified), else "dev".
	Version string
	// Revision, Time and Modified are the version-control commit, its commit time (RFC 3339)
	// and whether the working tree had uncommitted changes; empty and false when the build
	// recorded none (go run, go test, -buildvcs=false).
	Revision string
	Time     string
	Modified bool
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, override)
}

// Version returns Read().Version.
func Version() string { return Read().Version }

// fromBuildInfo turns the toolchain's record (nil when the binary has none) into an Info,
// with override, when not empty, as the version.
func fromBuildInfo(bi *debug.BuildInfo, override string) Info {
	info := Info{Version: devVersion}
	if bi != nil {
		info.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified, _ = strconv.ParseBool(s.Value)
			}
		}
	}
	if override != "" {
		info.Version = override
	}
	return info
}

// Write prints info for a person, the command's name first: the version on the first line,
// then, on their own lines, those of the commit, its time, whether the tree was modified and
// the Go toolchain that the build recorded.
func (info Info) Write(w io.Writer, name string) error {
	lines := []string{name + " " + info.Version}
	if info.Revision != "" {
		lines = append(lines, "commit:   "+info.Revision)
		if info.Time != "" {
			lines = append(lines, "time:     "+info.Time)
		}
		lines = append(lines, "modified: "+strconv.FormatBool(info.Modified))
	}
	if info.GoVersion != "" {
		lines = append(lines, "go:       "+info.GoVersion)
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}
