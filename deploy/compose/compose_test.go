package compose_test

import (
	"context"
	"iter"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/healthcheck"
	"github.com/passage-cm/passage/internal/ociimage"
)

// load reads compose.yaml as `docker compose config` would, with every profile (the one-shot
// init services too) and .env.example as .env. compose-go validates the file against the
// Compose specification's schema before anything else.
func load(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithWorkingDirectory("."),
		cli.WithEnvFiles(".env.example"),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return p
}

// passageImage is .env.example's PASSAGE_IMAGE: the services that run Passage itself.
func passageImage(p *types.Project) string { return p.Environment["PASSAGE_IMAGE"] }

// passageServices yields the services that run the Passage image, by name.
func passageServices(p *types.Project) iter.Seq2[string, types.ServiceConfig] {
	return func(yield func(string, types.ServiceConfig) bool) {
		for name, s := range p.Services {
			if s.Image == passageImage(p) && !yield(name, s) {
				return
			}
		}
	}
}

// oneShot reports whether s runs once and exits (an init profile, or restart "no") rather than
// serving.
func oneShot(s types.ServiceConfig) bool { return len(s.Profiles) > 0 || s.Restart == "no" }

// pinned matches an image reference with a version tag (at least major.minor), not latest.
var pinned = regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9]+\.[0-9]+[0-9A-Za-z.+_-]*$`)

// noHealthcheck names the long-running services that cannot have a health check, and why.
// Passage's own services are never among them: their images run `healthcheck`
// (TestComposePassageHealthchecks).
var noHealthcheck = map[string]string{
	"otel-collector": "its image is built from scratch: nothing to run a check with",
}

func TestComposeLoadsAndPinsEveryImage(t *testing.T) {
	t.Parallel()
	p := load(t)
	want := []string{"postgres", "vault", "vault-init", "vault-proxy", "passage-keys", "passage-migrate",
		"passage", "otel-collector", "prometheus", "grafana"}
	for _, name := range want {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}
	for name, s := range p.Services {
		if !pinned.MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned by version", name, s.Image)
		}
	}
	if img := passageImage(p); img == "" {
		t.Error(".env.example sets no PASSAGE_IMAGE")
	}
}

func TestComposeHealthchecksAndStartOrder(t *testing.T) {
	t.Parallel()
	p := load(t)
	for name, s := range p.Services {
		if oneShot(s) {
			continue
		}
		_, exempt := noHealthcheck[name]
		has := s.HealthCheck != nil && !s.HealthCheck.Disable && len(s.HealthCheck.Test) > 0
		if has == exempt {
			t.Errorf("service %s: health check present %v, but listed in noHealthcheck %v", name, has, exempt)
		}
		if s.Restart != "unless-stopped" {
			t.Errorf("service %s: restart %q, want unless-stopped", name, s.Restart)
		}
	}
	// What must be true before each service starts.
	for _, edge := range []struct{ service, dependency, condition string }{
		{"passage-migrate", "postgres", types.ServiceConditionHealthy},
		{"passage", "passage-migrate", types.ServiceConditionCompletedSuccessfully},
		{"passage", "vault-proxy", types.ServiceConditionHealthy},
		{"passage-keys", "postgres", types.ServiceConditionHealthy},
		{"passage-keys", "vault-proxy", types.ServiceConditionHealthy},
		{"vault-proxy", "vault", types.ServiceConditionHealthy},
		// Vault is not healthy (sealed, uninitialised) until vault-init has run.
		{"vault-init", "vault", types.ServiceConditionStarted},
		{"grafana", "prometheus", types.ServiceConditionHealthy},
	} {
		dep, ok := p.Services[edge.service].DependsOn[edge.dependency]
		if !ok || dep.Condition != edge.condition {
			t.Errorf("%s depends on %s with condition %q (present %v), want %q",
				edge.service, edge.dependency, dep.Condition, ok, edge.condition)
		}
	}
	for name, s := range p.Services {
		for depName, dep := range s.DependsOn {
			d, ok := p.Services[depName]
			if !ok {
				t.Errorf("%s depends on unknown %s", name, depName)
				continue
			}
			if dep.Condition == types.ServiceConditionHealthy && d.HealthCheck == nil {
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, depName)
			}
		}
	}
	if cmd := p.Services["passage-migrate"].Command; !slices.Equal(cmd, types.ShellCommand{"migrate", "up"}) {
		t.Errorf("passage-migrate runs %q, want migrate up", cmd)
	}
	if cmd := p.Services["passage"].Command; !slices.Equal(cmd, types.ShellCommand{"serve"}) {
		t.Errorf("passage runs %q, want serve", cmd)
	}
}

// Every long-running service of the Passage image checks its health with the binary it runs
// (the image's entrypoint, or the service's own), `healthcheck`, in the exec form: the image
// has no shell. Compose's timeout leaves the command's own (--timeout) room to say why. The
// one-shot services turn the image's health check off: they serve nothing to probe.
func TestComposePassageHealthchecks(t *testing.T) {
	t.Parallel()
	n := 0
	for name, s := range passageServices(load(t)) {
		hc := s.HealthCheck
		if oneShot(s) {
			if hc == nil || !hc.Disable {
				t.Errorf("service %s runs once: want healthcheck disable: true, not the image's probe of a server it does not run", name)
			}
			continue
		}
		n++
		bin := ociimage.BinDir + "/" + ociimage.ServeCommand
		if len(s.Entrypoint) > 0 {
			bin = s.Entrypoint[0]
		}
		if hc == nil || hc.Disable || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != bin || hc.Test[2] != "healthcheck" {
			t.Errorf("service %s: health check %+v, want [CMD %s healthcheck …]", name, hc, bin)
			continue
		}
		probe := healthcheck.DefaultTimeout
		for i, arg := range hc.Test {
			if v, ok := strings.CutPrefix(arg, "--timeout="); ok {
				probe, _ = time.ParseDuration(v)
			} else if arg == "--timeout" && i+1 < len(hc.Test) {
				probe, _ = time.ParseDuration(hc.Test[i+1])
			}
		}
		if hc.Timeout == nil || time.Duration(*hc.Timeout) <= probe {
			t.Errorf("service %s: health check timeout %v: want one above the probe's own %s", name, hc.Timeout, probe)
		}
		if hc.Interval == nil || hc.Retries == nil || *hc.Retries == 0 {
			t.Errorf("service %s: health check without an interval or retries", name)
		}
	}
	if n == 0 {
		t.Error("no long-running service runs the Passage image")
	}
}

// secretWords are the last words of variable names whose values would be secrets.
var secretWords = []string{"PASSWORD", "TOKEN", "SECRET", "KEY"}

func TestComposeKeepsSecretsOutOfTheEnvironment(t *testing.T) {
	t.Parallel()
	p := load(t)
	for name, s := range p.Services {
		for k, v := range s.Environment {
			if v == nil {
				continue
			}
			words := strings.Split(k, "_")
			last := words[len(words)-1]
			if last == "FILE" {
				continue
			}
			if slices.Contains(secretWords, last) || slices.Contains(words, "PASSWORD") {
				if !strings.HasPrefix(*v, "/") {
					t.Errorf("service %s: %s holds a value, not a file: a secret belongs in secrets/ or a mounted file", name, k)
				}
			}
			if u, err := url.Parse(*v); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					t.Errorf("service %s: %s carries a password", name, k)
				}
			}
		}
		if _, ok := s.Environment["VAULT_TOKEN"]; ok {
			t.Errorf("service %s: VAULT_TOKEN set; Vault Proxy holds the token", name)
		}
	}
	for _, name := range []string{"postgres_password", "grafana_admin_password"} {
		if sec, ok := p.Secrets[name]; !ok || sec.File == "" {
			t.Errorf("secret %s is not a file", name)
		}
	}
}

func TestComposeSpeaksTLS(t *testing.T) {
	t.Parallel()
	p := load(t)
	env := func(service, key string) string {
		v := p.Services[service].Environment[key]
		if v == nil {
			return ""
		}
		return *v
	}
	for _, service := range []string{"passage", "passage-migrate", "passage-keys"} {
		u, err := url.Parse(env(service, "DATABASE_URL"))
		if err != nil {
			t.Fatalf("%s: DATABASE_URL: %v", service, err)
		}
		q := u.Query()
		if q.Get("sslmode") != "verify-full" || q.Get("sslrootcert") == "" || q.Get("sslcert") == "" || q.Get("sslkey") == "" {
			t.Errorf("%s: DATABASE_URL wants sslmode=verify-full with the CA and a client certificate, has %q", service, u.RawQuery)
		}
		for _, k := range []string{"VAULT_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
			if !strings.HasPrefix(env(service, k), "https://") {
				t.Errorf("%s: %s = %q, want https://", service, k, env(service, k))
			}
		}
		if env(service, "VAULT_CACERT") == "" || env(service, "OTEL_EXPORTER_OTLP_CERTIFICATE") == "" {
			t.Errorf("%s: no CA for Vault or the collector", service)
		}
	}
	for _, k := range []string{"PASSAGE_TLS_CERT", "PASSAGE_TLS_KEY", "PASSAGE_PARTNER_TLS_CERT", "PASSAGE_PARTNER_TLS_KEY"} {
		if !strings.HasPrefix(env("passage", k), "/certs/") {
			t.Errorf("passage: %s = %q, want a file under /certs", k, env("passage", k))
		}
	}
	if cmd := strings.Join(p.Services["postgres"].Command, " "); !strings.Contains(cmd, "ssl=on") ||
		!strings.Contains(cmd, "ssl_min_protocol_version=TLSv1.3") {
		t.Errorf("postgres runs without TLS 1.3: %s", cmd)
	}
}

// known reports whether name is a variable Passage reads, from bootstrap's table: a name
// listed there, one matching a listed pattern (PASSAGE_<SERVICE>_…, OTEL_EXPORTER_OTLP_*), or
// one a listed variable's help names (VAULT_ADDR, read by the Vault client).
func known(name string) bool {
	for _, v := range bootstrap.EnvVars() {
		for listed := range strings.SplitSeq(v.Name, ", ") {
			pattern := "^" + strings.NewReplacer(`\*`, "[A-Z_]+", "<SERVICE>", "[A-Z]+").Replace(regexp.QuoteMeta(listed)) + "$"
			if regexp.MustCompile(pattern).MatchString(name) {
				return true
			}
		}
		if regexp.MustCompile(`\b` + name + `\b`).MatchString(v.Help) {
			return true
		}
	}
	return false
}

func TestComposeSetsOnlyVariablesPassageReads(t *testing.T) {
	t.Parallel()
	n := 0
	for name, s := range passageServices(load(t)) {
		n++
		for k := range s.Environment {
			if !known(k) {
				t.Errorf("service %s sets %s, which internal/bootstrap does not list", name, k)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d services run the Passage image, want 3 (keys, migrate, serve)", n)
	}
	if known("PASSAGE_NO_SUCH_SETTING") || !known("PASSAGE_INTAKE_DATABASE_URL") || !known("VAULT_CACERT") {
		t.Error("known() does not tell the table's variables from others")
	}
}
