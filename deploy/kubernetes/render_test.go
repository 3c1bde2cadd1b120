package kubernetes

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"

	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// stages are the kustomizations an operator applies, in order (docs/operators/kubernetes.md).
var stages = []string{"database", "migrate", "app"}

// object is a rendered object: its YAML, as kubeconform reads it, and the fields the tests
// look at.
type object struct {
	Stage      string
	YAML       []byte
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	// Spec is decoded again, per kind, by the tests that need it.
	Spec json.RawMessage `json:"spec"`
	// AutomountServiceAccountToken is a ServiceAccount's.
	AutomountServiceAccountToken *bool `json:"automountServiceAccountToken"`
}

var (
	renderOnce sync.Once
	rendered   []object
	renderErr  error
)

// render builds every stage with kustomize, once per test binary.
func render(t *testing.T) []object {
	t.Helper()
	renderOnce.Do(func() {
		k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
		for _, stage := range stages {
			m, err := k.Run(filesys.MakeFsOnDisk(), stage)
			if err != nil {
				renderErr = err
				return
			}
			for _, r := range m.Resources() {
				y, err := r.AsYAML()
				if err != nil {
					renderErr = err
					return
				}
				j, err := r.MarshalJSON()
				if err != nil {
					renderErr = err
					return
				}
				o := object{Stage: stage, YAML: y}
				if err := json.Unmarshal(j, &o); err != nil {
					renderErr = err
					return
				}
				rendered = append(rendered, o)
			}
		}
	})
	if renderErr != nil {
		t.Fatalf("kustomize build: %v", renderErr)
	}
	return rendered
}

// newValidator is kubeconform reading the schemas kept in schemas/json only: a kind without a
// schema there is an error, not skipped.
func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("schemas", "json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := validator.New([]string{dir + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"}, validator.Opts{})
	if err != nil {
		t.Fatalf("kubeconform: %v", err)
	}
	return v
}

// validate returns what kubeconform finds wrong with the object y ("" when it is valid).
func validate(v validator.Validator, name string, y []byte) string {
	res := v.ValidateResource(resource.Resource{Path: name, Bytes: y})
	switch res.Status {
	case validator.Valid:
		return ""
	case validator.Invalid:
		msg := ""
		for _, e := range res.ValidationErrors {
			msg += "\n  " + e.Path + ": " + e.Msg
		}
		return "invalid:" + msg
	default:
		return "not validated (status " + statusName(res.Status) + "): " + errString(res.Err)
	}
}

func statusName(s validator.Status) string {
	switch s {
	case validator.Error:
		return "error"
	case validator.Skipped:
		return "skipped"
	case validator.Empty:
		return "empty"
	}
	return "unknown"
}

func errString(err error) string {
	if err == nil {
		return "no error given"
	}
	return err.Error()
}

// TestManifestsValidate renders every stage and validates each object it makes against the
// schemas of its kind.
func TestManifestsValidate(t *testing.T) {
	objs := render(t)
	v := newValidator(t)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.Kind]++
		name := o.Stage + ": " + o.Kind + "/" + o.Metadata.Name
		if msg := validate(v, name, o.YAML); msg != "" {
			t.Errorf("%s %s", name, msg)
		}
		if o.Kind != "Namespace" && o.Metadata.Namespace != "passage" {
			t.Errorf("%s: namespace %q, want passage", name, o.Metadata.Namespace)
		}
	}
	for _, want := range []string{"Deployment", "Service", "PodDisruptionBudget", "ServiceAccount", "NetworkPolicy",
		"Job", "Cluster", "ScheduledBackup", "Gateway", "GRPCRoute", "BackendTLSPolicy"} {
		if kinds[want] == 0 {
			t.Errorf("no %s rendered", want)
		}
	}
}

// TestValidatorRejects shows the validation is strict: a misspelt field, a wrong type and a
// missing required field each fail, in built-in and custom kinds alike.
func TestValidatorRejects(t *testing.T) {
	v := newValidator(t)
	for name, y := range map[string]string{
		"misspelt Deployment field": `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replica: 2
  selector: {matchLabels: {a: b}}
  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: x, image: x}]}}
`,
		"Service port as a word": `apiVersion: v1
kind: Service
metadata: {name: x}
spec: {ports: [{port: grpc}]}
`,
		"Cluster with an unknown synchronous method": `apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: x}
spec:
  instances: 3
  storage: {size: 1Gi}
  postgresql: {synchronous: {method: all, number: 1}}
`,
		"GRPCRoute match on a path": `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: x}
spec:
  rules: [{matches: [{path: {value: /x}}]}]
`,
		"a kind without a schema here": `apiVersion: v1
kind: Pod
metadata: {name: x}
spec: {containers: [{name: x, image: x}]}
`,
	} {
		if validate(v, name, []byte(y)) == "" {
			t.Errorf("%s: accepted", name)
		}
	}
}
