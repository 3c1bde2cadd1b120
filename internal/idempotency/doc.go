// Package idempotency makes mutating RPCs safe to retry: the first result of a request id is
// stored in the same transaction as the change, and a retry with the same id gets that result
// back instead of changing anything again, even when two retries race.
package idempotency
