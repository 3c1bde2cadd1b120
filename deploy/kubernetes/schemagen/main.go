// Command schemagen regenerates deploy/kubernetes/schemas/json: the schemas of the built-in
// kinds from the OpenAPI definitions of Kubernetes schemas.KubernetesVersion (the Go module
// k8s.io/kubernetes, fetched through the Go module proxy), and those of the custom resources
// from the CRDs kept in deploy/kubernetes/schemas/crds. Run from the repository's root:
//
//	go run ./deploy/kubernetes/schemagen
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/passage-cm/passage/deploy/kubernetes/schemas"
)

func main() {
	dir := flag.String("dir", "deploy/kubernetes/schemas", "the schemas directory: crds/ in, json/ out")
	openapi := flag.String("openapi", "", "api/openapi-spec/v3 of the Kubernetes release (default: from the Go module k8s.io/kubernetes@"+schemas.KubernetesVersion+")")
	flag.Parse()
	if err := run(*dir, *openapi); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(dir, openapi string) error {
	if openapi == "" {
		var err error
		if openapi, err = moduleOpenAPI(); err != nil {
			return err
		}
	}
	out := filepath.Join(dir, "json")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, b := range schemas.BuiltIns {
		doc, err := os.ReadFile(filepath.Join(openapi, b.Document))
		if err != nil {
			return err
		}
		s, err := schemas.FromOpenAPI(doc, b.Component)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, b.Kind.FileName()), s, 0o644); err != nil {
			return err
		}
	}
	versions, err := schemas.FromCRDFiles(filepath.Join(dir, "crds"))
	if err != nil {
		return err
	}
	for _, v := range versions {
		if err := os.WriteFile(filepath.Join(out, v.Kind.FileName()), v.Schema, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleOpenAPI downloads k8s.io/kubernetes at schemas.KubernetesVersion into the module
// cache (only its zip: it is not built) and returns its api/openapi-spec/v3.
func moduleOpenAPI() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+schemas.KubernetesVersion)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes: %w", err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	if m.Error != "" {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes: %s", m.Error)
	}
	return filepath.Join(m.Dir, "api", "openapi-spec", "v3"), nil
}
