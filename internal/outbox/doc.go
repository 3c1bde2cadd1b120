// Package outbox writes the transactional outbox: every change a service makes is recorded
// as an event row in the same transaction as the change, so the services after it (analytics,
// referral) learn of it exactly when it commits. Payloads are pseudonymised protobuf
// messages; identity never enters the outbox.
package outbox
