// Package testserver runs Passage services the way production does, for tests: a database
// of the test's own cloned from the migrated template, development keys in a temporary
// folder, and the server and services assembled as `passage serve` assembles them
// (bootstrap.Assemble: interceptor chain, auth, validation, a pool per role, the services'
// background work, the partner gateway) on an in-memory gRPC listener, with its log output
// captured for inspection and the services' clock the test's own (Options.Clock). It also
// reads back what the services stored (row counts, outbox events, every row as a dump shows it
// for the scans for planted personal data, as the database owner), writes into the outbox the
// events of a service a test does not run (Env.Emit: the hand-overs intake's consumer applies),
// and reads what they returned (status codes and their details), so that every service's tests share
// one way.
package testserver
