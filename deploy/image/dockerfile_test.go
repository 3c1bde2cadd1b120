package image

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/passage-cm/passage/internal/ociimage"
)

// instruction is one Dockerfile instruction, its continuation lines joined, with the body
// of its here-document if it has one.
type instruction struct {
	Op, Args, Heredoc string
}

// stage is one FROM and what follows it.
type stage struct {
	Name, From   string
	Instructions []instruction
}

// parseDockerfile reads the subset of the Dockerfile syntax deploy/image/Dockerfile uses:
// comments, "\" continuations, "FROM image AS name" and <<EOT here-documents.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(lines[i])
		}
		op, args, _ := strings.Cut(line, " ")
		in := instruction{Op: strings.ToUpper(op), Args: strings.TrimSpace(args)}
		if j := strings.Index(in.Args, "<<"); j >= 0 {
			word := strings.Fields(in.Args[j+2:])[0]
			var body []string
			for i++; i < len(lines) && lines[i] != word; i++ {
				body = append(body, lines[i]+"\n")
			}
			in.Heredoc = strings.Join(body, "")
		}
		switch {
		case in.Op == "FROM":
			f := strings.Fields(in.Args)
			s := stage{From: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.Name = f[2]
			}
			stages = append(stages, s)
		case len(stages) == 0:
			if in.Op != "ARG" {
				t.Fatalf("%s before the first FROM", in.Op)
			}
		default:
			stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
		}
	}
	return stages
}

// all returns the arguments of every op instruction of s.
func (s stage) all(op string) []string {
	var args []string
	for _, in := range s.Instructions {
		if in.Op == op {
			args = append(args, in.Args)
		}
	}
	return args
}

// keyValues parses ENV or LABEL arguments: key=value pairs separated by spaces (values
// without spaces or quotes, as the Dockerfile writes them), ARG references left as written.
func keyValues(t *testing.T, args []string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, a := range args {
		for _, f := range strings.Fields(a) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				t.Fatalf("%q: not key=value", f)
			}
			kv[k] = v
		}
	}
	return kv
}

// healthcheckOf parses a stage's HEALTHCHECK instructions (one at most): its --interval,
// --timeout, --start-period and --retries options, then CMD in the exec (JSON) form.
func healthcheckOf(t *testing.T, args []string) *v1.HealthConfig {
	t.Helper()
	if len(args) == 0 {
		return nil
	}
	if len(args) > 1 {
		t.Fatalf("%d HEALTHCHECK instructions in one stage", len(args))
	}
	opts, test, ok := strings.Cut(args[0], " CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s: no CMD", args[0])
	}
	hc := &v1.HealthConfig{}
	if err := json.Unmarshal([]byte(test), &hc.Test); err != nil {
		t.Fatalf("HEALTHCHECK CMD %s: not the exec (JSON) form: %v", test, err)
	}
	hc.Test = append([]string{"CMD"}, hc.Test...)
	for _, o := range strings.Fields(opts) {
		k, v, _ := strings.Cut(o, "=")
		var err error
		switch k {
		case "--interval":
			hc.Interval, err = time.ParseDuration(v)
		case "--timeout":
			hc.Timeout, err = time.ParseDuration(v)
		case "--start-period":
			hc.StartPeriod, err = time.ParseDuration(v)
		case "--retries":
			hc.Retries, err = strconv.Atoi(v)
		default:
			t.Fatalf("HEALTHCHECK option %s: not one the Go-built images set", o)
		}
		if err != nil {
			t.Fatalf("HEALTHCHECK %s: %v", o, err)
		}
	}
	return hc
}

// serverCommands are the commands under cmd/ that the images hold: all but the load generator.
func serverCommands(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("../../cmd")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "passage-load" {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestDockerfileMatchesTheGoBuiltImages(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(raw))
	byName := map[string]stage{}
	var names []string
	for _, s := range stages {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	commands := serverCommands(t)
	wantNames := []string{"build", "rootfs", "base"}
	for _, c := range commands {
		if c != ociimage.ServeCommand {
			wantNames = append(wantNames, c)
		}
	}
	// passage last: the image `docker build` makes without --target.
	wantNames = append(wantNames, ociimage.ServeCommand)
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("stages (-want +got):\n%s", diff)
	}

	// The build: static, without build paths, every server command and nothing else.
	build := strings.Join(byName["build"].all("RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false", "buildinfo.override=${VERSION}"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage does not build with %s", want)
		}
	}
	var built []string
	for _, f := range strings.Fields(build) {
		if c, ok := strings.CutPrefix(f, "./cmd/"); ok {
			built = append(built, c)
		}
	}
	if diff := cmp.Diff(commands, built); diff != "" {
		t.Errorf("commands the build stage builds (-want +got):\n%s", diff)
	}

	// The base files: the same text as ociimage writes, and the CA bundle at its place.
	rootfs := byName["rootfs"]
	heredocs := map[string]string{}
	for _, in := range rootfs.Instructions {
		if in.Op == "COPY" && in.Heredoc != "" {
			f := strings.Fields(in.Args)
			heredocs[strings.TrimPrefix(f[len(f)-1], "/rootfs")] = in.Heredoc
		}
	}
	if diff := cmp.Diff(ociimage.TextFiles(), heredocs); diff != "" {
		t.Errorf("base text files (-want +got):\n%s", diff)
	}
	setup := strings.Join(rootfs.all("RUN"), "\n")
	for _, want := range []string{
		"cp /etc/ssl/certs/ca-certificates.crt /rootfs" + ociimage.CABundlePath,
		"chmod 1777 /rootfs/tmp",
		"chmod 700 /rootfs" + ociimage.Home,
		"chown 65532:65532 /rootfs" + ociimage.Home,
	} {
		if !strings.Contains(setup, want) {
			t.Errorf("the rootfs stage does not run %q", want)
		}
	}

	// The configuration every image shares.
	base := byName["base"]
	if base.From != "scratch" {
		t.Errorf("base stage FROM %s, want scratch", base.From)
	}
	cfg := ociimage.Config(ociimage.Spec{Version: "${VERSION}", Source: ociimage.DefaultSource, Licenses: ociimage.DefaultLicenses}, ociimage.ServeCommand)
	if got := base.all("USER"); !slices.Equal(got, []string{cfg.User}) {
		t.Errorf("USER %q, want %q", got, cfg.User)
	}
	if got := base.all("WORKDIR"); !slices.Equal(got, []string{cfg.WorkingDir}) {
		t.Errorf("WORKDIR %q, want %q", got, cfg.WorkingDir)
	}
	wantEnv := map[string]string{}
	for _, e := range cfg.Env {
		k, v, _ := strings.Cut(e, "=")
		wantEnv[k] = v
	}
	if diff := cmp.Diff(wantEnv, keyValues(t, base.all("ENV"))); diff != "" {
		t.Errorf("ENV (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ociimage.Ports, strings.Fields(strings.Join(base.all("EXPOSE"), " "))); diff != "" {
		t.Errorf("EXPOSE (-want +got):\n%s", diff)
	}

	for _, name := range commands {
		s := byName[name]
		if s.From != "base" {
			t.Errorf("%s FROM %s, want base", name, s.From)
		}
		cfg := ociimage.Config(ociimage.Spec{Version: "${VERSION}", Source: ociimage.DefaultSource, Licenses: ociimage.DefaultLicenses}, name)
		// Labels: the base's and the stage's own; the created time and revision are the
		// Go-built images' alone (a Docker build has no commit to read).
		labels := keyValues(t, append(base.all("LABEL"), s.all("LABEL")...))
		wantLabels := cfg.Labels
		delete(wantLabels, ociimage.LabelCreated)
		if diff := cmp.Diff(wantLabels, labels); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", name, diff)
		}
		wantCopy := "--from=build /out/" + name + " " + cfg.Entrypoint[0]
		if held := ociimage.Holds(commands, name); len(held) > 1 {
			wantCopy = "--from=build /out/ " + ociimage.BinDir + "/" // every command
		}
		if got := s.all("COPY"); !slices.Equal(got, []string{wantCopy}) {
			t.Errorf("%s COPY %q, want %q", name, got, wantCopy)
		}
		if got := healthcheckOf(t, s.all("HEALTHCHECK")); !cmp.Equal(got, cfg.Healthcheck) {
			t.Errorf("%s HEALTHCHECK %+v, want %+v", name, got, cfg.Healthcheck)
		}
		for op, want := range map[string][]string{"ENTRYPOINT": cfg.Entrypoint, "CMD": cfg.Cmd} {
			var got []string
			for _, a := range s.all(op) {
				if err := json.Unmarshal([]byte(a), &got); err != nil {
					t.Errorf("%s %s %s: not the exec (JSON) form: %v", name, op, a, err)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s %q, want %q", name, op, got, want)
			}
		}
	}
}
