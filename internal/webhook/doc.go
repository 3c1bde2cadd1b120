// Package webhook delivers events to partner agencies over HTTP, reliably: a delivery is
// queued in the same transaction as the business change (Queue), and a Worker sends it as a
// CloudEvents 1.0 JSON envelope (structured content mode) signed per the Standard Webhooks
// scheme (webhook-id, webhook-timestamp, webhook-signature), until the partner answers 2xx.
//
// Delivery is at least once with a stable id: the webhook-id is the event's id on every
// attempt and every replay, so a receiver that drops ids it has seen gets each event exactly
// once in effect. Deliveries with the same ordering key (a referral) go out in queue order:
// a later one waits until the earlier one is delivered or dead. Failures are retried with
// exponential backoff and full jitter, honouring Retry-After on 429 and 503; after
// WorkerConfig.MaxAttempts or MaxAge a delivery is dead-lettered, and Replay queues it again.
// Several workers (replicas) share the queue: each claims due deliveries with FOR UPDATE SKIP
// LOCKED and leases them, so no delivery is sent by two workers at once: an attempt, the
// partner's endpoint looked up and the request answered, ends WorkerConfig.Timeout after its
// claim, LeaseMargin before its lease, and its outcome is recorded only under its lease's
// token. An attempt that timed out is over for the worker, which may send the next at once:
// a partner still working on the abandoned request then sees the same webhook-id twice at
// the same time, as at-least-once delivery allows.
//
// Every connection goes to a public address over https, checked on the address dialled
// (internal/egress), unless WorkerConfig.AllowNetworks names a network on purpose
// (development); a refused address is a failed attempt like any other.
//
// Delivery state lives in the webhook schema only and never touches a referral's business
// status. What is stored about a failure is a short status line ("HTTP 503 Service
// Unavailable", "timeout"), never a response body, which could echo what the partner was sent.
package webhook
