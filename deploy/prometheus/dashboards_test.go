package prometheus_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dashboard is the part of a Grafana dashboard's JSON the test reads.
type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	Targets    []struct {
		Expr       string     `json:"expr"`
		RefID      string     `json:"refId"`
		Datasource datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// datasourceUID is the Prometheus data source deploy/compose/grafana/datasources.yaml provisions.
const datasourceUID = "passage-prometheus"

// grafanaMacros are the variables Grafana replaces in a query before Prometheus sees it, with
// a value of their kind so that the query parses.
var grafanaMacros = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// TestDashboardsReadExportedMetrics reads every dashboard in deploy/grafana and checks each
// query: PromQL that parses (once Grafana's macros are replaced), reading only series the
// code exports, on the provisioned data source. Together the dashboards must show RPC rates,
// latencies and errors, pipeline lag, webhook deliveries, database pools and quota refusals.
func TestDashboardsReadExportedMetrics(t *testing.T) {
	t.Parallel()
	s := exported(t)
	files, err := filepath.Glob("../grafana/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboard in deploy/grafana: %v", err)
	}
	var read, exprs []string
	uids := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: no uid or title", f)
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s and %s share the uid %s", f, other, d.UID)
		}
		uids[d.UID] = f
		ids := map[int]bool{}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				if ids[p.ID] {
					t.Errorf("%s: panel id %d twice", f, p.ID)
				}
				ids[p.ID] = true
				walk(p.Panels)
				if p.Type == "row" {
					continue
				}
				if len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no query", f, p.Title)
				}
				if p.Datasource.UID != datasourceUID {
					t.Errorf("%s: panel %q reads data source %q, want %q", f, p.Title, p.Datasource.UID, datasourceUID)
				}
				for _, q := range p.Targets {
					if q.Datasource.UID != datasourceUID {
						t.Errorf("%s: panel %q query %s reads data source %q", f, p.Title, q.RefID, q.Datasource.UID)
					}
					what := f + ": panel " + p.Title
					read = append(read, checkExpr(t, s, what, grafanaMacros.Replace(q.Expr))...)
					exprs = append(exprs, q.Expr)
				}
			}
		}
		walk(d.Panels)
	}
	for _, want := range []string{
		"rpc_server_call_duration_seconds_count", "rpc_server_call_duration_seconds_bucket",
		"passage_outbox_consumer_oldest_age_seconds", "passage_outbox_consumer_backlog",
		"passage_webhook_deliveries_total", "passage_webhook_dead_letters_total", "passage_webhook_queue_depth",
		"passage_db_pool_acquired", "passage_db_pool_max", "passage_db_pool_empty_acquire_wait_seconds_total",
		"passage_quota_refusals_total",
	} {
		if !slices.Contains(read, want) {
			t.Errorf("no dashboard reads %s", want)
		}
	}
	for _, q := range []string{"histogram_quantile(0.5, sum by (le, rpc_method)", "histogram_quantile(0.95, sum by (le, rpc_method)",
		"histogram_quantile(0.99, sum by (le, rpc_method)", "sum by (rpc_response_status_code)"} {
		if !slices.ContainsFunc(exprs, func(e string) bool { return strings.Contains(e, q) }) {
			t.Errorf("no dashboard query has %s", q)
		}
	}
}
