package prometheus_test

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// generated are series Prometheus makes itself rather than scrapes: a query may read them
// although no /metrics page exports them.
var generated = map[string]bool{"up": true}

// promql parses as Prometheus does by default: no experimental functions, ASCII names.
var promql = parser.NewParser(parser.Options{})

// readMetrics parses a PromQL expression and returns the metric names its selectors read.
func readMetrics(expr string) ([]string, error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names, nil
}

// checkExpr reports, as errors on t, an expression of what that does not parse, reads no
// metric, or reads one that neither the scrape s nor Prometheus itself has. It returns the
// names read.
func checkExpr(t *testing.T, s scrape, what, expr string) []string {
	t.Helper()
	names, err := readMetrics(expr)
	if err != nil {
		t.Errorf("%s: %v: %s", what, err, expr)
		return nil
	}
	if len(names) == 0 {
		t.Errorf("%s reads no metric: %s", what, expr)
	}
	for _, name := range names {
		if name == "" {
			t.Errorf("%s selects series by labels only; name the metric: %s", what, expr)
		} else if !s.samples[name] && !generated[name] {
			t.Errorf("%s reads %s, which /metrics does not export", what, name)
		}
	}
	return names
}
