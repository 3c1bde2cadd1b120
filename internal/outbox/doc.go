// Package outbox writes the transactional outbox: every change a service makes is recorded
// as an event row in the same transaction as the change, so the services after it (analytics,
// referral) learn of it exactly when it commits. Payloads are pseudonymised protobuf
// messages; identity never enters the outbox.
//
// Consumer reads the events back in commit order and applies them exactly once in effect,
// one at a time (Handler) or, where a projection can write many events in a few multi-row
// statements, a drain at a time (BatchHandler), falling back to one at a time when a batch
// fails so that a poison event holds back only itself. While a consumer runs, its backlog and
// the age of its oldest unapplied event are OpenTelemetry gauges (Consumer.Lag).
package outbox
