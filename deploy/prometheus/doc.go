// Package prometheus holds Passage's Prometheus alert rules (alerts.yml, next to this file)
// and the test that keeps them honest: every passage_* metric an alert reads must be one the
// code exports on /metrics, and every exported passage_* metric must be documented in
// docs/operators/metrics.md. It has no code of its own.
package prometheus
