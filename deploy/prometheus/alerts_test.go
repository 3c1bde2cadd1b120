package prometheus_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// rules is the part of a Prometheus rule file the test reads.
type rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestAlertsReadExportedMetrics parses alerts.yml and checks every rule: named, with a
// severity and a summary, a PromQL expression that parses and reads only series the code
// exports (found on /metrics after running the pipeline), and that every exported passage_*
// family is documented.
func TestAlertsReadExportedMetrics(t *testing.T) {
	t.Parallel()
	s := exported(t)

	raw, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file rules
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	alerts := 0
	var read []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			alerts++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("group %s: rule %q lacks a name, an expression, a severity or a summary", g.Name, r.Alert)
			}
			read = append(read, checkExpr(t, s, "alert "+r.Alert, r.Expr)...)
		}
	}
	if alerts == 0 {
		t.Fatal("alerts.yml holds no alert")
	}
	for _, want := range []string{"passage_outbox_consumer_backlog", "passage_outbox_consumer_oldest_age_seconds",
		"passage_audit_chainer_oldest_age_seconds", "passage_webhook_dead_letters_total", "passage_db_pool_acquired",
		"passage_server_ready", "rpc_server_call_duration_seconds_count", "rpc_server_call_duration_seconds_bucket"} {
		if !slices.Contains(read, want) {
			t.Errorf("no alert reads %s", want)
		}
	}

	doc, err := os.ReadFile("../../docs/operators/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range s.passageFamilies() {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/operators/metrics.md does not document %s", name)
		}
	}
}
