// Package bootstrap assembles a Passage process from its configuration: the logger, telemetry,
// the vault keyring (reloaded on a timer and on SIGHUP, so KEK rotations reach running
// processes), the token verifier, one database pool per service role (and, for a service
// that reads from a streaming replica, a pool on the replica with the same role, which
// readiness watches for that service alone: NOT_SERVING while the replica is unreachable or its
// replay lags more than PASSAGE_ANALYTICS_REPLICA_MAX_LAG), the documents' bucket when PASSAGE_DOCUMENT_STORE is
// s3 (internal/objectstore, opened and checked at start) and the gRPC server, then runs the
// chosen services until the context ends. Every service main and
// `passage serve` go through it, so they all start and stop the same way. The part that
// builds the server and registers each service on it, Assemble, is also what
// internal/testserver runs, so the tests' server is assembled as production's.
package bootstrap
