package kubernetes

import (
	"bytes"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/catalog"
)

// vaultPolicyName is the policy deploy/kubernetes/vault/passage-kek.hcl is written as.
const vaultPolicyName = "passage-kek"

// TestVaultLogin checks that no object carries a Vault token, and that each Deployment logs
// in with Vault's Kubernetes auth as a role of its own: PASSAGE_VAULT_AUTH=kubernetes, its
// own role in PASSAGE_VAULT_ROLE, the token file a projected service account token with an
// audience; and that the operator's guide has Vault make exactly those roles, each bound to
// its Deployment's ServiceAccount, namespace and audience, with the policy of vault/.
func TestVaultLogin(t *testing.T) {
	for _, o := range render(t) {
		if bytes.Contains(o.YAML, []byte("VAULT_TOKEN")) {
			t.Errorf("%s/%s carries VAULT_TOKEN: the pods log in with Vault's Kubernetes auth", o.Kind, o.Metadata.Name)
		}
	}
	known := map[string]bool{}
	for _, v := range bootstrap.EnvVars() {
		known[v.Name] = true
	}
	roles := documentedVaultRoles(t)
	deployments := find(t, "Deployment")
	var names []string
	for _, s := range catalog.Services() {
		name := deploymentName(s)
		names = append(names, name)
		d, ok := deployments[name]
		if !ok {
			continue // TestEveryServiceDeployed reports it
		}
		pod := decode[workloadSpec](t, d).Template.Spec
		c := pod.Containers[0]
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
			if strings.HasPrefix(e.Name, "PASSAGE_VAULT_") && !known[e.Name] {
				t.Errorf("%s: %s is no variable Passage reads", name, e.Name)
			}
		}
		for _, from := range c.EnvFrom {
			if from.SecretRef != nil {
				t.Errorf("%s: takes every key of Secret %s as variables: name each instead", name, from.SecretRef.Name)
			}
		}
		if env["PASSAGE_VAULT_AUTH"] != "kubernetes" || env["PASSAGE_VAULT_ROLE"] != name {
			t.Errorf("%s: PASSAGE_VAULT_AUTH=%q PASSAGE_VAULT_ROLE=%q, want kubernetes and its own role %s",
				name, env["PASSAGE_VAULT_AUTH"], env["PASSAGE_VAULT_ROLE"], name)
		}
		dir, file := path.Split(env["PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE"])
		var volume string
		for _, m := range c.VolumeMounts {
			if m.MountPath == strings.TrimSuffix(dir, "/") && m.ReadOnly {
				volume = m.Name
			}
		}
		var audience string
		for _, v := range pod.Volumes {
			if v.Name != volume || v.Projected == nil || len(v.Projected.Sources) != 1 || v.Projected.Sources[0].ServiceAccountToken == nil {
				continue
			}
			if tok := v.Projected.Sources[0].ServiceAccountToken; tok.Path == file && tok.ExpirationSeconds >= 600 && tok.ExpirationSeconds <= 86400 {
				audience = tok.Audience
			}
		}
		if audience == "" {
			t.Errorf("%s: PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE=%q is not a read-only projected service account token with an audience and a lifetime of 10m to 24h",
				name, env["PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE"])
		}
		want := map[string]string{
			"bound_service_account_names":      pod.ServiceAccountName,
			"bound_service_account_namespaces": d.Metadata.Namespace,
			"audience":                         audience,
			"token_policies":                   vaultPolicyName,
		}
		if got, ok := roles[name]; !ok {
			t.Errorf("%s: docs/operators/kubernetes.md makes no Vault role %s", name, name)
		} else if !isSubset(want, got) {
			t.Errorf("Vault role %s as documented: %v, want %v", name, got, want)
		}
	}
	if got := slices.Sorted(maps.Keys(roles)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("the documented Vault roles %v, want one per Deployment: %v", got, names)
	}
}

// documentedVaultRoles reads the Kubernetes-auth roles docs/operators/kubernetes.md has the
// operator make (vault write auth/kubernetes/role/NAME key=value ...), by name, and checks
// that it writes the policy of vault/ under its name.
func documentedVaultRoles(t *testing.T) map[string]map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operators", "kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("\nvault policy write "+vaultPolicyName+" deploy/kubernetes/vault/passage-kek.hcl\n")) {
		t.Errorf("docs/operators/kubernetes.md does not write the policy %s from deploy/kubernetes/vault/passage-kek.hcl", vaultPolicyName)
	}
	roles := map[string]map[string]string{}
	for line := range strings.Lines(string(doc)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "vault write auth/kubernetes/role/")
		if !ok {
			continue
		}
		words := strings.Fields(rest)
		fields := map[string]string{}
		for _, w := range words[1:] {
			k, v, _ := strings.Cut(w, "=")
			fields[k] = v
		}
		roles[words[0]] = fields
	}
	return roles
}

// policyPath is one path block of a Vault policy, written as vault/passage-kek.hcl writes
// them.
var policyPath = regexp.MustCompile(`(?m)^path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}`)

// TestVaultPolicy checks that the services' Vault policy allows exactly encrypting and
// decrypting with the transit key PASSAGE_KEK_URI names.
func TestVaultPolicy(t *testing.T) {
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	config, ok := find(t, "ConfigMap")["passage-config"]
	if !ok {
		t.Fatal("no ConfigMap passage-config")
	}
	if err := yaml.Unmarshal(config.YAML, &cm); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cm.Data["PASSAGE_KEK_URI"])
	if err != nil || u.Scheme != "hcvault" {
		t.Fatalf("PASSAGE_KEK_URI %q: want hcvault://HOST:PORT/MOUNT/keys/NAME", cm.Data["PASSAGE_KEK_URI"])
	}
	mount, key, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/keys/")
	if !ok || mount == "" || key == "" || strings.Contains(key, "/") {
		t.Fatalf("PASSAGE_KEK_URI path %q: want /MOUNT/keys/NAME", u.Path)
	}
	policy, err := os.ReadFile(filepath.Join("vault", "passage-kek.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range policyPath.FindAllStringSubmatch(string(policy), -1) {
		got[m[1]] = strings.TrimSpace(m[2])
	}
	if want := map[string]string{mount + "/encrypt/" + key: `"update"`, mount + "/decrypt/" + key: `"update"`}; !maps.Equal(got, want) {
		t.Errorf("vault/passage-kek.hcl allows %v, want %v only", got, want)
	}
	if n := strings.Count(string(policy), "\npath "); n != len(got) {
		t.Errorf("vault/passage-kek.hcl has %d paths, %d of them read", n, len(got))
	}
}
