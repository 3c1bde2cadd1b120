package kubernetes

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/passage-cm/passage/deploy/kubernetes/schemas"
	"github.com/passage-cm/passage/services/catalog"
)

// TestRoutes checks that the Gateway sends every gRPC service each process registers (its
// own and those it includes) to that process's Service, and nothing else anywhere.
func TestRoutes(t *testing.T) {
	type route struct {
		ParentRefs []struct {
			Name string `json:"name"`
		} `json:"parentRefs"`
		Rules []struct {
			Matches []struct {
				Method struct {
					Type    string `json:"type"`
					Service string `json:"service"`
					Method  string `json:"method"`
				} `json:"method"`
			} `json:"matches"`
			BackendRefs []struct {
				Name string `json:"name"`
				Port int    `json:"port"`
			} `json:"backendRefs"`
		} `json:"rules"`
	}
	routes := find(t, "GRPCRoute")
	gateways, services := find(t, "Gateway"), find(t, "Service")
	policies := find(t, "BackendTLSPolicy")
	routed := map[string]string{} // gRPC service -> Service
	for name, o := range routes {
		r := decode[route](t, o)
		for _, p := range r.ParentRefs {
			if _, ok := gateways[p.Name]; !ok {
				t.Errorf("GRPCRoute %s: parent Gateway %s is not rendered", name, p.Name)
			}
		}
		for _, rule := range r.Rules {
			if len(rule.BackendRefs) != 1 {
				t.Errorf("GRPCRoute %s: %d backends in a rule, want 1", name, len(rule.BackendRefs))
				continue
			}
			b := rule.BackendRefs[0]
			if _, ok := services[b.Name]; !ok || b.Port != 7070 {
				t.Errorf("GRPCRoute %s: backend %s:%d, want a rendered Service's gRPC port 7070", name, b.Name, b.Port)
			}
			if _, ok := policies[b.Name]; !ok {
				t.Errorf("GRPCRoute %s: backend %s has no BackendTLSPolicy: the Gateway would call it in the clear", name, b.Name)
			}
			for _, m := range rule.Matches {
				if m.Method.Type != "Exact" || m.Method.Service == "" || m.Method.Method != "" {
					t.Errorf("GRPCRoute %s: match %+v, want an exact match on a whole service", name, m.Method)
					continue
				}
				if prev, ok := routed[m.Method.Service]; ok {
					t.Errorf("%s is routed twice: to %s and %s", m.Method.Service, prev, b.Name)
				}
				routed[m.Method.Service] = b.Name
			}
		}
	}
	want := map[string]string{}
	for _, s := range catalog.Services() {
		for _, name := range append([]string{s.Name}, s.Includes...) {
			want[name] = deploymentName(s)
		}
	}
	for name, to := range want {
		if routed[name] != to {
			t.Errorf("%s is routed to %q, want %s", name, routed[name], to)
		}
	}
	for name := range routed {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is routed but no service registers it", name)
		}
	}
}

// TestCRDSchemasCurrent checks that the custom resources' schemas in schemas/json are what
// schemagen makes of the CRDs kept in schemas/crds (run go run ./deploy/kubernetes/schemagen
// after changing a CRD).
func TestCRDSchemasCurrent(t *testing.T) {
	versions, err := schemas.FromCRDFiles(filepath.Join("schemas", "crds"))
	if err != nil || len(versions) == 0 {
		t.Fatalf("no CRDs in schemas/crds (%v)", err)
	}
	for _, v := range versions {
		kept, err := os.ReadFile(filepath.Join("schemas", "json", v.Kind.FileName()))
		if err != nil {
			t.Errorf("%s %s: %v", v.Kind.APIVersion, v.Kind.Kind, err)
			continue
		}
		if !bytes.Equal(kept, v.Schema) {
			t.Errorf("schemas/json/%s differs from what schemas/crds makes: run go run ./deploy/kubernetes/schemagen", v.Kind.FileName())
		}
	}
	for _, b := range schemas.BuiltIns {
		if _, err := os.Stat(filepath.Join("schemas", "json", b.Kind.FileName())); err != nil {
			t.Errorf("built-in %s %s: %v", b.Kind.APIVersion, b.Kind.Kind, err)
		}
	}
}

// TestNetworkPolicies checks the shape of the namespace's policies: ingress denied to every
// pod unless allowed, egress denied to every Passage pod unless allowed, and the one way out
// of the cluster (ipBlock) open to referral's webhooks only.
func TestNetworkPolicies(t *testing.T) {
	type peer struct {
		IPBlock *struct {
			CIDR string `json:"cidr"`
		} `json:"ipBlock"`
	}
	type policy struct {
		PodSelector selector `json:"podSelector"`
		PolicyTypes []string `json:"policyTypes"`
		Ingress     []struct {
			From []peer `json:"from"`
		} `json:"ingress"`
		Egress []struct {
			To []peer `json:"to"`
		} `json:"egress"`
	}
	var denyIngress, denyEgress bool
	for name, o := range find(t, "NetworkPolicy") {
		p := decode[policy](t, o)
		switch {
		case len(p.Ingress) == 0 && slices.Contains(p.PolicyTypes, "Ingress") && len(p.PodSelector.MatchLabels) == 0:
			denyIngress = true
		case len(p.Egress) == 0 && slices.Contains(p.PolicyTypes, "Egress") &&
			p.PodSelector.MatchLabels["app.kubernetes.io/part-of"] == "passage" && len(p.PodSelector.MatchLabels) == 1:
			denyEgress = true
		}
		for _, e := range p.Egress {
			for _, to := range e.To {
				if to.IPBlock != nil && p.PodSelector.MatchLabels["app.kubernetes.io/component"] != "referral" {
					t.Errorf("NetworkPolicy %s lets pods %v out of the cluster (%s); only referral's webhooks may", name,
						p.PodSelector.MatchLabels, to.IPBlock.CIDR)
				}
			}
		}
		for _, in := range p.Ingress {
			if len(in.From) == 0 && p.PodSelector.MatchLabels["app.kubernetes.io/component"] != "referral" {
				t.Errorf("NetworkPolicy %s lets anyone reach pods %v; only referral's partner gateway is public", name,
					p.PodSelector.MatchLabels)
			}
		}
	}
	if !denyIngress || !denyEgress {
		t.Errorf("default deny: ingress %v, egress of Passage pods %v; want both", denyIngress, denyEgress)
	}
}
