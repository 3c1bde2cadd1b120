package schemas

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileName(t *testing.T) {
	for k, want := range map[Kind]string{
		{"v1", "Service"}:                             "service-v1.json",
		{"apps/v1", "Deployment"}:                     "deployment-apps-v1.json",
		{"networking.k8s.io/v1", "NetworkPolicy"}:     "networkpolicy-networking-v1.json",
		{"postgresql.cnpg.io/v1", "Cluster"}:          "cluster-postgresql-v1.json",
		{"gateway.networking.k8s.io/v1", "GRPCRoute"}: "grpcroute-gateway-v1.json",
	} {
		if got := k.FileName(); got != want {
			t.Errorf("%v.FileName() = %q, want %q", k, got, want)
		}
	}
}

func TestFromOpenAPI(t *testing.T) {
	doc := `{"components":{"schemas":{
  "a.Thing":{"description":"d","type":"object","properties":{
    "meta":{"allOf":[{"$ref":"#/components/schemas/a.Meta"}],"default":{}},
    "port":{"$ref":"#/components/schemas/a.IntOrString"},
    "labels":{"type":"object","additionalProperties":{"type":"string"}},
    "note":{"type":"string","nullable":true}}},
  "a.Meta":{"type":"object","properties":{"name":{"type":"string"}},"x-kubernetes-map-type":"atomic"},
  "a.IntOrString":{"format":"int-or-string","oneOf":[{"type":"integer"},{"type":"string"}]}}}}`
	got, err := FromOpenAPI([]byte(doc), "a.Thing")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"additionalProperties":false,"type":"object","properties":{
  "meta":{"allOf":[{"type":"object","properties":{"name":{"type":"string"}},"additionalProperties":false}]},
  "port":{"oneOf":[{"type":"integer"},{"type":"string"}]},
  "labels":{"type":"object","additionalProperties":{"type":"string"}},
  "note":{"type":["string","null"]}}}`
	if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, string(got))); diff != "" {
		t.Errorf("FromOpenAPI (-want +got):\n%s", diff)
	}
	if _, err := FromOpenAPI([]byte(doc), "a.Missing"); err == nil {
		t.Error("FromOpenAPI of a missing schema: no error")
	}
	recursive := `{"components":{"schemas":{"a.R":{"type":"object","properties":{"r":{"$ref":"#/components/schemas/a.R"}}}}}}`
	if _, err := FromOpenAPI([]byte(recursive), "a.R"); err == nil {
		t.Error("FromOpenAPI of a recursive schema: no error")
	}
}

func TestFromCRD(t *testing.T) {
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.org
  names: {kind: Widget}
  versions:
    - name: v1
      served: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
                free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}
    - name: v0
      served: false
      schema:
        openAPIV3Schema: {type: object}
`
	got, err := FromCRD([]byte(crd))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != (Kind{"example.org/v1", "Widget"}) {
		t.Fatalf("FromCRD = %d versions (%v), want example.org/v1 Widget only", len(got), got)
	}
	want := `{"type":"object","additionalProperties":false,"properties":{"spec":{"type":"object","additionalProperties":false,
  "properties":{"port":{"oneOf":[{"type":"integer"},{"type":"string"}]},
  "free":{"type":"object","properties":{"a":{"type":"string"}}}}}}}`
	if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, string(got[0].Schema))); diff != "" {
		t.Errorf("FromCRD (-want +got):\n%s", diff)
	}
	if _, err := FromCRD([]byte("kind: ConfigMap\n")); err == nil {
		t.Error("FromCRD of a ConfigMap: no error")
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}
