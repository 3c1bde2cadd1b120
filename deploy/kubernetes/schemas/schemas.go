package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind names a kind at one API version: the schema's file and the object it validates.
type Kind struct {
	// APIVersion is the object's apiVersion, "apps/v1" or "v1".
	APIVersion string
	// Kind is the object's kind, "Deployment".
	Kind string
}

// FileName is the file kubeconform's schema location "{{ .ResourceKind }}{{ .KindSuffix }}.json"
// names for k: the lower-case kind, the first label of the group, the version
// ("deployment-apps-v1.json", "service-v1.json", "cluster-postgresql-v1.json").
func (k Kind) FileName() string {
	name := strings.ToLower(k.Kind)
	group, version, found := strings.Cut(k.APIVersion, "/")
	if !found {
		return name + "-" + strings.ToLower(group) + ".json"
	}
	first, _, _ := strings.Cut(group, ".")
	return name + "-" + strings.ToLower(first) + "-" + strings.ToLower(version) + ".json"
}

// FromOpenAPI returns the standalone schema of the component named name (e.g.
// "io.k8s.api.apps.v1.Deployment") in an OpenAPI v3 document, every $ref inlined.
func FromOpenAPI(doc []byte, name string) ([]byte, error) {
	var d struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	root, ok := d.Components.Schemas[name]
	if !ok {
		return nil, fmt.Errorf("OpenAPI document: no schema %s", name)
	}
	resolve := func(ref string) (any, error) {
		const prefix = "#/components/schemas/"
		s, ok := d.Components.Schemas[strings.TrimPrefix(ref, prefix)]
		if !strings.HasPrefix(ref, prefix) || !ok {
			return nil, fmt.Errorf("OpenAPI document: cannot resolve %s", ref)
		}
		return s, nil
	}
	out, err := convert(root, resolve, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return encode(out)
}

// CRDSchema is one version of a custom resource, with its standalone schema.
type CRDSchema struct {
	Kind   Kind
	Schema []byte
}

// FromCRD returns the schema of every version a CustomResourceDefinition (YAML) serves.
func FromCRD(crd []byte) ([]CRDSchema, error) {
	var c struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Served bool   `yaml:"served"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(crd, &c); err != nil {
		return nil, fmt.Errorf("CRD: %w", err)
	}
	if c.Kind != "CustomResourceDefinition" || c.Spec.Group == "" || c.Spec.Names.Kind == "" {
		return nil, fmt.Errorf("not a CustomResourceDefinition (kind %q)", c.Kind)
	}
	var out []CRDSchema
	for _, v := range c.Spec.Versions {
		if !v.Served {
			continue
		}
		k := Kind{APIVersion: c.Spec.Group + "/" + v.Name, Kind: c.Spec.Names.Kind}
		if v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("%s %s: no openAPIV3Schema", k.APIVersion, k.Kind)
		}
		s, err := convert(v.Schema.OpenAPIV3Schema, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", k.APIVersion, k.Kind, err)
		}
		b, err := encode(s)
		if err != nil {
			return nil, err
		}
		out = append(out, CRDSchema{Kind: k, Schema: b})
	}
	return out, nil
}

// FromCRDFiles returns the schema of every version served by the CustomResourceDefinitions in
// dir (*.yaml), in the order of their files: what schemagen writes, and what
// TestCRDSchemasCurrent holds json/ to.
func FromCRDFiles(dir string) ([]CRDSchema, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []CRDSchema
	for _, path := range paths {
		crd, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		versions, err := FromCRD(crd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, versions...)
	}
	return out, nil
}

// maxDepth bounds the inlining of $refs: the kinds validated here are not recursive, and a
// recursive one would otherwise never end.
const maxDepth = 64

// convert returns a copy of schema s as strict, standalone JSON schema: $refs inlined (through
// resolve), int-or-string made a oneOf, objects with properties closed, annotations dropped.
func convert(s any, resolve func(string) (any, error), seen []string) (any, error) {
	switch s := s.(type) {
	case []any:
		out := make([]any, len(s))
		for i, e := range s {
			c, err := convert(e, resolve, seen)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		if ref, ok := s["$ref"].(string); ok {
			if resolve == nil {
				return nil, fmt.Errorf("unexpected $ref %s", ref)
			}
			if len(seen) >= maxDepth {
				return nil, fmt.Errorf("$ref %s: nested deeper than %d (recursive?)", ref, maxDepth)
			}
			target, err := resolve(ref)
			if err != nil {
				return nil, err
			}
			return convert(target, resolve, append(seen, ref))
		}
		out := make(map[string]any, len(s))
		for k, v := range s {
			switch {
			case k == "description" || k == "default" || k == "example" || strings.HasPrefix(k, "x-"):
				continue
			case k == "properties" || k == "patternProperties" || k == "definitions":
				// A map from names to schemas: its keys are field names, not keywords.
				props, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s is not an object", k)
				}
				converted := make(map[string]any, len(props))
				for name, p := range props {
					c, err := convert(p, resolve, seen)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
					converted[name] = c
				}
				out[k] = converted
			default:
				c, err := convert(v, resolve, seen)
				if err != nil {
					return nil, err
				}
				out[k] = c
			}
		}
		if s["x-kubernetes-int-or-string"] == true || s["format"] == "int-or-string" {
			delete(out, "type")
			delete(out, "format")
			delete(out, "anyOf")
			out["oneOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
		}
		if s["nullable"] == true {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		delete(out, "nullable")
		_, hasProps := out["properties"]
		_, hasAdditional := out["additionalProperties"]
		if hasProps && !hasAdditional && s["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out, nil
	default:
		return s, nil
	}
}

// encode writes schema s as indented JSON with sorted keys (encoding/json sorts map keys), so
// that regenerating an unchanged schema changes no byte.
func encode(s any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
