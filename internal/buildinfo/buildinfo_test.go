package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/passage-cm/passage", Version: "v0.0.0-20261207135819-97d0bb4a1b2c+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "97d0bb4a1b2c3d4e5f60718293a4b5c6d7e8f901"},
			{Key: "vcs.time", Value: "2026-12-07T13:58:19Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     Info
	}{
		{"no build information", nil, "", Info{Version: "dev"}},
		{"go run or go test", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			"", Info{Version: "dev", GoVersion: "go1.26.0"}},
		{"stamped by the toolchain", stamped, "", Info{
			Version:  "v0.0.0-20261207135819-97d0bb4a1b2c+dirty",
			Revision: "97d0bb4a1b2c3d4e5f60718293a4b5c6d7e8f901", Time: "2026-12-07T13:58:19Z", Modified: true,
			GoVersion: "go1.26.0"}},
		{"overridden at link time", stamped, "v1.2.3", Info{
			Version:  "v1.2.3",
			Revision: "97d0bb4a1b2c3d4e5f60718293a4b5c6d7e8f901", Time: "2026-12-07T13:58:19Z", Modified: true,
			GoVersion: "go1.26.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fromBuildInfo(tc.bi, tc.override); got != tc.want {
				t.Errorf("fromBuildInfo = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		info Info
		want string
	}{
		{"nothing recorded", Info{Version: "dev"}, "passage dev\n"},
		{"toolchain only", Info{Version: "dev", GoVersion: "go1.26.0"}, "passage dev\ngo:       go1.26.0\n"},
		{"commit recorded", Info{Version: "v1.2.3", Revision: "97d0bb4", Time: "2026-12-07T13:58:19Z", GoVersion: "go1.26.0"},
			"passage v1.2.3\ncommit:   97d0bb4\ntime:     2026-12-07T13:58:19Z\nmodified: false\ngo:       go1.26.0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.info.Write(&b, "passage"); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("Write printed\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}

// The running binary's information is the toolchain's record read through fromBuildInfo.
func TestReadIsTheRunningBinarys(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("this test binary carries no build information")
	}
	if got, want := Read(), fromBuildInfo(bi, override); got != want {
		t.Errorf("Read = %+v, want %+v", got, want)
	}
	if Version() != Read().Version {
		t.Errorf("Version = %q, Read().Version = %q", Version(), Read().Version)
	}
	if Read().GoVersion == "" {
		t.Error("Read().GoVersion is empty, though the binary has build information")
	}
}
