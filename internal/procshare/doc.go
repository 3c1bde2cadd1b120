// Package procshare divides a setting made for the whole database between the live processes
// that share it, and re-divides it as processes come and go. Intake's group commit uses it:
// PASSAGE_REGISTER_BATCHES_IN_FLIGHT is how many registration batches the database should see
// at once, and each live intake process writes max(1, budget / live) of them (Share), so that
// two processes make batches as large as one does (docs/benchmarks/replicas.md).
//
// # Counting live processes
//
// Each process names its service's pool's connections "passage-<kind>/<process id>"
// (ApplicationName; internal/bootstrap does it for every service, with one random id per
// process, and internal/database.PoolConfig sets it). A Divider counts the distinct such names
// in pg_stat_activity (Count) every Period, in the current database, of client sessions of its
// own role (current_user), and passes the share on when it changes.
//
// Why pg_stat_activity rather than a heartbeat table:
//   - It is already there and costs the database nothing to keep: no migration, no grant, and
//     no write, WAL record or dead row every few seconds per process on the database whose
//     load this is meant to spare. Postgres shows every role the user and application_name of
//     every session (only the query text and state of other roles' sessions are hidden, unless
//     pg_read_all_stats is granted); the service roles are NOBYPASSRLS non-superusers and need
//     nothing more (migrations/000001).
//   - It cannot go stale: a process that ends, or is killed, leaves as its connections close
//     (the kernel closes a killed process's sockets, and Postgres ends their sessions), without
//     an expiry to tune or clocks to agree. A heartbeat row outlives a killed process until it
//     expires, and the survivors take less than their share until then.
//   - Only the counting role's sessions count, so no other service's role can shrink intake's
//     share by naming its connections "passage-intake/...". The names carry no personal data:
//     a service name and a random id drawn at start-up.
//
// What it cannot see: a process counts only while its pool holds a connection. Intake's pool
// always does while it runs (its outbox consumer polls, and its Divider looks every Period,
// and pgx keeps idle connections for half an hour), but for the moment pgx takes to replace
// one past its lifetime. A process cut off from the database counts until Postgres notices its
// connections are dead (TCP keep-alive), so the others take less than their share, never
// more. Behind a proxy that pools connections by transaction (PgBouncer in transaction mode)
// the server's sessions do not carry the clients' application_name: each process then counts
// itself alone, or none, and takes the whole budget; there, set the budget to what one
// process should take. Processes of one kind in another database of the same cluster are not
// counted: the budget is the database's.
package procshare
