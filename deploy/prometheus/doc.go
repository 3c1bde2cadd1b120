// Package prometheus holds Passage's Prometheus alert rules (alerts.yml, next to this file,
// with their promtool unit tests in alerts.test.yml) and the tests that keep them and the
// Grafana dashboards (deploy/grafana) honest: every expression parses as PromQL and reads only
// series the code exports on /metrics (found by scraping a running pipeline and one served
// RPC), and every exported passage_* metric is documented in docs/operators/metrics.md. It has
// no code of its own.
package prometheus
