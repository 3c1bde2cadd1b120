package kubernetes

import (
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/catalog"
)

// The parts of the rendered specs the tests read.
type (
	selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	}
	securityContext struct {
		RunAsNonRoot             *bool `json:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
		Privileged               *bool `json:"privileged"`
		Capabilities             struct {
			Drop []string `json:"drop"`
		} `json:"capabilities"`
		SeccompProfile struct {
			Type string `json:"type"`
		} `json:"seccompProfile"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `json:"path"`
			Port any    `json:"port"`
		} `json:"httpGet"`
	}
	envVar struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"secretKeyRef"`
		} `json:"valueFrom"`
	}
	container struct {
		Name    string   `json:"name"`
		Command []string `json:"command"`
		Env     []envVar `json:"env"`
		EnvFrom []struct {
			SecretRef *struct {
				Name string `json:"name"`
			} `json:"secretRef"`
		} `json:"envFrom"`
		VolumeMounts []struct {
			Name      string `json:"name"`
			MountPath string `json:"mountPath"`
			ReadOnly  bool   `json:"readOnly"`
		} `json:"volumeMounts"`
		Ports []struct {
			Name          string `json:"name"`
			ContainerPort int    `json:"containerPort"`
		} `json:"ports"`
		StartupProbe    *probe          `json:"startupProbe"`
		LivenessProbe   *probe          `json:"livenessProbe"`
		ReadinessProbe  *probe          `json:"readinessProbe"`
		SecurityContext securityContext `json:"securityContext"`
		Resources       struct {
			Requests map[string]string `json:"requests"`
			Limits   map[string]string `json:"limits"`
		} `json:"resources"`
	}
	podSpec struct {
		ServiceAccountName           string          `json:"serviceAccountName"`
		AutomountServiceAccountToken *bool           `json:"automountServiceAccountToken"`
		SecurityContext              securityContext `json:"securityContext"`
		Containers                   []container     `json:"containers"`
		Volumes                      []struct {
			Name      string `json:"name"`
			Projected *struct {
				Sources []struct {
					ServiceAccountToken *struct {
						Path              string `json:"path"`
						Audience          string `json:"audience"`
						ExpirationSeconds int    `json:"expirationSeconds"`
					} `json:"serviceAccountToken"`
				} `json:"sources"`
			} `json:"projected"`
		} `json:"volumes"`
	}
	podTemplate struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec podSpec `json:"spec"`
	}
	workloadSpec struct {
		Replicas *int        `json:"replicas"`
		Selector selector    `json:"selector"`
		Template podTemplate `json:"template"`
	}
	serviceSpec struct {
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			Port       int    `json:"port"`
			TargetPort any    `json:"targetPort"`
			Name       string `json:"name"`
		} `json:"ports"`
	}
	clusterSpec struct {
		Instances  int `json:"instances"`
		PostgreSQL struct {
			Synchronous struct {
				Method string `json:"method"`
				Number int    `json:"number"`
			} `json:"synchronous"`
		} `json:"postgresql"`
		Bootstrap struct {
			InitDB struct {
				Owner  string `json:"owner"`
				Secret struct {
					Name string `json:"name"`
				} `json:"secret"`
			} `json:"initdb"`
		} `json:"bootstrap"`
		Managed struct {
			Roles []struct {
				Name           string `json:"name"`
				Login          bool   `json:"login"`
				BypassRLS      bool   `json:"bypassrls"`
				Superuser      bool   `json:"superuser"`
				PasswordSecret struct {
					Name string `json:"name"`
				} `json:"passwordSecret"`
			} `json:"roles"`
		} `json:"managed"`
		Backup struct {
			BarmanObjectStore struct {
				DestinationPath string `json:"destinationPath"`
			} `json:"barmanObjectStore"`
		} `json:"backup"`
	}
)

// find returns the rendered objects of kind, by name.
func find(t *testing.T, kind string) map[string]object {
	t.Helper()
	out := map[string]object{}
	for _, o := range render(t) {
		if o.Kind == kind {
			out[o.Metadata.Name] = o
		}
	}
	return out
}

func decode[T any](t *testing.T, o object) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(o.Spec, &v); err != nil {
		t.Fatalf("%s/%s: %v", o.Kind, o.Metadata.Name, err)
	}
	return v
}

// deploymentName is the Deployment (and Service, PodDisruptionBudget, ServiceAccount,
// GRPCRoute) of a service.
func deploymentName(s bootstrap.Service) string { return "passage-" + s.Short }

// TestEveryServiceDeployed checks that each service of the catalog, and nothing else, has a
// Deployment running its own binary, with a Service, a PodDisruptionBudget and a
// ServiceAccount that select or run exactly its pods.
func TestEveryServiceDeployed(t *testing.T) {
	deployments := find(t, "Deployment")
	services, pdbs, accounts := find(t, "Service"), find(t, "PodDisruptionBudget"), find(t, "ServiceAccount")
	var want []string
	for _, s := range catalog.Services() {
		name := deploymentName(s)
		want = append(want, name)
		d, ok := deployments[name]
		if !ok {
			t.Errorf("service %s: no Deployment %s", s.Name, name)
			continue
		}
		spec := decode[workloadSpec](t, d)
		c := spec.Template.Spec.Containers[0]
		if bin := "passage-" + s.Short; !slices.Equal(c.Command, []string{bin}) {
			t.Errorf("%s: command %q, want [%s]", name, c.Command, bin)
		} else if _, err := os.Stat(filepath.Join("..", "..", "cmd", bin)); err != nil {
			t.Errorf("%s: command %s is not a command of cmd/: %v", name, bin, err)
		}
		if spec.Replicas == nil || *spec.Replicas < 2 {
			t.Errorf("%s: replicas %v, want at least 2 (its PodDisruptionBudget lets one go)", name, spec.Replicas)
		}
		sel := spec.Selector.MatchLabels
		if !isSubset(sel, spec.Template.Metadata.Labels) {
			t.Errorf("%s: selector %v does not select its pods (%v)", name, sel, spec.Template.Metadata.Labels)
		}
		for other, od := range deployments {
			if other != name && isSubset(sel, decode[workloadSpec](t, od).Template.Metadata.Labels) {
				t.Errorf("%s: selector %v also selects %s's pods", name, sel, other)
			}
		}
		if svc, ok := services[name]; !ok {
			t.Errorf("%s: no Service", name)
		} else if got := decode[serviceSpec](t, svc).Selector; !maps.Equal(got, sel) {
			t.Errorf("Service %s selects %v, want %v", name, got, sel)
		}
		if pdb, ok := pdbs[name]; !ok {
			t.Errorf("%s: no PodDisruptionBudget", name)
		} else if got := decode[struct {
			Selector selector `json:"selector"`
		}](t, pdb).Selector.MatchLabels; !maps.Equal(got, sel) {
			t.Errorf("PodDisruptionBudget %s selects %v, want %v", name, got, sel)
		}
		if _, ok := accounts[name]; !ok || spec.Template.Spec.ServiceAccountName != name {
			t.Errorf("%s: runs as ServiceAccount %q, want its own %s", name, spec.Template.Spec.ServiceAccountName, name)
		}
	}
	if got := slices.Sorted(maps.Keys(deployments)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("Deployments %v, want one per service of the catalog: %v", got, want)
	}
	for name, sa := range accounts {
		if !isFalse(sa.AutomountServiceAccountToken) {
			t.Errorf("ServiceAccount %s mounts its token: set automountServiceAccountToken: false", name)
		}
	}
}

// TestPodsHardened holds every pod (the Deployments' and the migration Job's) to the
// restricted Pod Security Standard the namespace enforces, and to what the server needs:
// probes on its own endpoints, requests, a memory limit.
func TestPodsHardened(t *testing.T) {
	pods := map[string]podTemplate{}
	for name, d := range find(t, "Deployment") {
		pods["Deployment/"+name] = decode[workloadSpec](t, d).Template
	}
	for name, j := range find(t, "Job") {
		pods["Job/"+name] = decode[workloadSpec](t, j).Template
	}
	if len(pods) == 0 {
		t.Fatal("no pods rendered")
	}
	for name, p := range pods {
		s := p.Spec
		if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token", name)
		}
		if !isTrue(s.SecurityContext.RunAsNonRoot) || s.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
			t.Errorf("%s: pod must run as non-root with the RuntimeDefault seccomp profile", name)
		}
		for _, c := range s.Containers {
			sc := c.SecurityContext
			if !isTrue(sc.RunAsNonRoot) || !isFalse(sc.AllowPrivilegeEscalation) || !isTrue(sc.ReadOnlyRootFilesystem) ||
				!isFalse(sc.Privileged) || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
				t.Errorf("%s/%s: want non-root, no privilege escalation, a read-only root, not privileged, every capability dropped; got %+v",
					name, c.Name, sc)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("%s/%s: want cpu and memory requests and a memory limit, got %+v", name, c.Name, c.Resources)
			}
			if strings.HasPrefix(name, "Job/") {
				continue
			}
			for probeName, pr := range map[string]*probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				wantPath := "/healthz"
				if probeName == "readiness" {
					wantPath = "/readyz"
				}
				if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != wantPath || pr.HTTPGet.Port != "probes" {
					t.Errorf("%s/%s: %s probe must GET %s on the probes port", name, c.Name, probeName, wantPath)
				}
			}
			ports := map[string]int{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			env := envOf(c)
			for portName, variable := range map[string]string{"grpc": "PASSAGE_GRPC_ADDR", "probes": "PASSAGE_HTTP_ADDR"} {
				if want := "0.0.0.0:" + strconv.Itoa(ports[portName]); env[variable].Value != want {
					t.Errorf("%s/%s: %s=%q, want %s (the %s port)", name, c.Name, variable, env[variable].Value, want, portName)
				}
			}
		}
	}
}

// passwordVariable returns the variable VAR of a password written $(VAR), which Kubernetes
// replaces with that variable's value.
func passwordVariable(pw string) (string, bool) {
	rest, ok := strings.CutPrefix(pw, "$(")
	name, closed := strings.CutSuffix(rest, ")")
	return name, ok && closed && name != ""
}

// TestDatabaseRoles checks that every process connects as the roles the code expects (its
// service's, its worker's, the auditor's), never as the owner, with the password from the
// very Secret CloudNativePG sets that role's password from; and that the Cluster has the
// primary, a synchronous standby, a backup and the owner the migrations need.
func TestDatabaseRoles(t *testing.T) {
	clusters := find(t, "Cluster")
	if len(clusters) != 1 {
		t.Fatalf("%d Clusters, want 1", len(clusters))
	}
	var cluster clusterSpec
	for _, c := range clusters {
		cluster = decode[clusterSpec](t, c)
	}
	if cluster.Instances < 3 || cluster.PostgreSQL.Synchronous.Number < 1 || cluster.PostgreSQL.Synchronous.Method == "" {
		t.Errorf("Cluster: %d instances, synchronous %+v; want 3, a primary and a synchronous standby among them",
			cluster.Instances, cluster.PostgreSQL.Synchronous)
	}
	if !strings.HasPrefix(cluster.Backup.BarmanObjectStore.DestinationPath, "s3://") {
		t.Errorf("Cluster: backup to %q, want object storage", cluster.Backup.BarmanObjectStore.DestinationPath)
	}
	secretOf := map[string]string{} // role -> the Secret its password comes from
	for _, r := range cluster.Managed.Roles {
		secretOf[r.Name] = r.PasswordSecret.Name
		if r.Superuser || !r.Login {
			t.Errorf("managed role %s: superuser %v, login %v", r.Name, r.Superuser, r.Login)
		}
		if r.BypassRLS != (r.Name == cluster.Bootstrap.InitDB.Owner) {
			t.Errorf("managed role %s: bypassrls %v; only the owner may bypass row-level security", r.Name, r.BypassRLS)
		}
	}
	owner := cluster.Bootstrap.InitDB.Owner
	if secretOf[owner] == "" || secretOf[owner] != cluster.Bootstrap.InitDB.Secret.Name {
		t.Errorf("owner %s: password from %q at bootstrap and %q when managed, want one Secret", owner,
			cluster.Bootstrap.InitDB.Secret.Name, secretOf[owner])
	}

	deployments := find(t, "Deployment")
	for _, s := range catalog.Services() {
		d, ok := deployments[deploymentName(s)]
		if !ok {
			continue // TestEveryServiceDeployed reports it
		}
		want := map[string]string{
			"PASSAGE_" + strings.ToUpper(s.Short) + "_DATABASE_URL": s.Role,
			"PASSAGE_AUDITOR_DATABASE_URL":                          audit.Role,
		}
		if s.WorkerRole != "" {
			want["PASSAGE_"+strings.ToUpper(s.Short)+"_WORKER_DATABASE_URL"] = s.WorkerRole
		}
		c := decode[workloadSpec](t, d).Template.Spec.Containers[0]
		checkConnections(t, d.Metadata.Name, c, want, secretOf)
		if _, ok := envOf(c)["DATABASE_URL"]; ok {
			t.Errorf("%s: has DATABASE_URL; the owner's credentials are for the migration Job only", d.Metadata.Name)
		}
	}
	jobs := find(t, "Job")
	j, ok := jobs["passage-migrate"]
	if !ok {
		t.Fatal("no Job passage-migrate")
	}
	c := decode[workloadSpec](t, j).Template.Spec.Containers[0]
	if !slices.Equal(c.Command, []string{"passage", "migrate", "up"}) {
		t.Errorf("passage-migrate runs %q, want passage migrate up", c.Command)
	}
	checkConnections(t, "passage-migrate", c, map[string]string{"DATABASE_URL": owner}, secretOf)
}

// checkConnections checks that container c has each variable of want, a connection as the
// role want names to the primary over verified TLS, with the password from the Secret the
// Cluster manages that role's password with.
func checkConnections(t *testing.T, name string, c container, want map[string]string, secretOf map[string]string) {
	t.Helper()
	env := envOf(c)
	for variable, role := range want {
		v, ok := env[variable]
		if !ok {
			t.Errorf("%s: no %s (role %s)", name, variable, role)
			continue
		}
		u, err := url.Parse(v.Value)
		if err != nil {
			t.Errorf("%s: %s: %v", name, variable, err)
			continue
		}
		if u.User.Username() != role {
			t.Errorf("%s: %s connects as %q, want %s", name, variable, u.User.Username(), role)
		}
		if u.Host != "passage-db-rw:5432" || u.Query().Get("sslmode") != "verify-full" || u.Query().Get("sslrootcert") == "" {
			t.Errorf("%s: %s: want the primary (passage-db-rw:5432) over verify-full TLS, got %s@%s?%s", name, variable,
				role, u.Host, u.RawQuery)
		}
		pw, _ := u.User.Password()
		pwVar, ok := passwordVariable(pw)
		if !ok {
			t.Errorf("%s: %s: the password must be $(VAR) from a Secret", name, variable)
			continue
		}
		from, ok := env[pwVar]
		if !ok || from.index > v.index || from.ValueFrom == nil || from.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: %s: $(%s) must be defined before it, from a Secret", name, variable, pwVar)
			continue
		}
		if ref := from.ValueFrom.SecretKeyRef; secretOf[role] == "" || ref.Name != secretOf[role] || ref.Key != "password" {
			t.Errorf("%s: %s: password from Secret %s key %s, want %q key password (the Cluster's for %s)",
				name, variable, ref.Name, ref.Key, secretOf[role], role)
		}
	}
}

// indexedEnv is an env variable and its place in the container's list: $(VAR) only expands
// variables defined earlier.
type indexedEnv struct {
	envVar
	index int
}

func envOf(c container) map[string]indexedEnv {
	out := map[string]indexedEnv{}
	for i, e := range c.Env {
		out[e.Name] = indexedEnv{envVar: e, index: i}
	}
	return out
}

func isSubset(sub, of map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }
