// Package database opens Passage's Postgres connections and holds what every store shares:
// the pool each service opens with its own least-privileged role, the transaction helper
// that retries serialization failures, the mapping of Postgres error codes to domain errors
// at the storage edge, and the embedded migration runner.
package database
