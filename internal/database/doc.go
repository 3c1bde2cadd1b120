// Package database opens Passage's Postgres connections and holds what every store shares:
// the pool each service opens with its own least-privileged role, the declaration of the
// mission every statement runs for, the transaction helper that retries serialization
// failures, the mapping of Postgres error codes to domain errors at the storage edge, the
// taxonomy of database failures (Classify), the composition of several stores' writes into
// one statement (Statement), the precision of its times (Timestamp), and the embedded
// migration runner.
//
// # When the database fails
//
// A failure of Postgres itself, as opposed to a request it refused, is classified by Classify
// into a Failure, in this package and nowhere else, so that every service answers it alike
// (the error-masking middleware turns it into UNAVAILABLE or ABORTED; see internal/middleware):
//
//   - Unreachable: no connection could be made (dial failure, 57P03 starting up, 53300 too
//     many connections) or an established one was lost (reset, closed, 57P01 admin shutdown,
//     57P02 crash shutdown, class 08);
//   - RolledBack: Postgres rolled the transaction back itself: 40001 serialization failure and
//     40P01 deadlock once InTx has stopped retrying them, 55P03 lock timeout, 57014 statement
//     timeout.
//
// Each comes with its Outcome. NotApplied is certain only where the failure came before
// anything could commit: pgconn guarantees nothing was sent (pgconn.SafeToRetry, or a failed
// connect), a read failed (NothingApplied), or a transaction failed before its COMMIT was sent
// (InTx marks it: Postgres rolls back every transaction whose session ends uncommitted).
// Anything else that lost its connection, a COMMIT in flight or a batch (one implicit
// transaction that commits when it ends), is OutcomeUnknown: only a retry with the same
// request id can tell, and it does, by replaying the first result.
//
// InTx runs a transaction again, up to five attempts, when that is safe: a lost race, or a
// connection that failed before anything was sent. A lost connection resets the pool (lost.go),
// since its idle connections are as dead.
//
// # Mission isolation in the database
//
// Missions are tenants, and the server checks the caller's mission on every call. Postgres
// checks it again underneath, with row-level security (migrations/000007_row_security.up.sql):
// every table that holds a mission's rows has ENABLE and FORCE ROW LEVEL SECURITY and a policy
// that shows a transaction the rows of the mission it declared, and lets it write only those.
// The service roles own no table and are NOBYPASSRLS, so the policies bind them. A mistake in
// a query's WHERE clause then returns nothing of another mission instead of its rows. What it
// guards against is the server's own mistakes: the declaration is the service's word, so a
// compromised service process, which may declare any mission, is held back only by its role's
// grants.
//
// A transaction declares its mission with set_config('passage.mission', m, true). The third
// argument makes the setting local to the transaction: it ends with COMMIT or ROLLBACK, and a
// pooled connection never carries it to its next user. Nothing declared means nothing visible:
// the policies read an empty setting as NULL, which matches no row, whether the connection is
// fresh or a finished transaction declared something on it (it then reads back empty).
//
// Services reach the database only through a DB, which cannot run an undeclared statement:
//
//   - DB.Mission(m) is a Querier whose every Exec, Query and QueryRow is sent as a two-statement
//     batch, [declare m, statement], and whose SendBatch queues the declaration before the
//     batch's statements. A batch is one round trip and one implicit transaction, so the
//     declaration costs no round trip and holds for exactly that work.
//   - DB.MissionTx(ctx, m, fn) runs fn in a transaction whose BEGIN carries the declaration
//     (one simple-protocol query, "BEGIN; SELECT set_config(...)"), again without a round trip
//     of its own; serialization failures and deadlocks are retried.
//   - An empty or malformed mission is refused with ErrUndeclared before anything is sent.
//     Missions are written into the BEGIN as literals, so only letters, digits, '-' and '_'
//     pass.
//
// The exceptions to "one mission per transaction" exist by design and are policies of their
// own, named for what they allow: a transaction declared for HQ reads and decides HASM
// requests of every mission; HASM funds are HQ's and readable by any declared mission; an outbox
// consumer declares itself (DB.OutboxConsumerTx, set_config('passage.outbox_consumer', ...)) to
// read intake's events of every mission in one commit order, and declares each event's mission
// (QueueMission, DeclareMission) before writing what the event implies; the retention job
// declares itself (DB.Maintenance("retention"), passage.maintenance) to find, across missions,
// the people due for erasure, and erases each in a transaction declared for their mission; the
// webhook delivery worker declares itself (DB.WebhookWorkerTx, passage.webhook_worker) to claim
// and update the outbound deliveries of every mission in one queue (000016); a partner
// agency's transaction declares the partner instead of a mission (DB.PartnerTx,
// passage.partner) and sees that partner's referrals, feed, and the identity of people while a
// referral of them to it is live, nothing else of any mission, writing its events and audit
// records under the referral's mission (000014); the referral expiry job declares itself
// (DB.Maintenance("referral_expiry")) to find unanswered referrals of every mission; an
// HQ transaction may add to any mission's audit chain (000008), never read it; a look-up of a
// person in other missions (the person search's FindElsewhere) declares, beside its own
// mission, the digests it asks about (DeclareSearchElsewhere, passage.search_elsewhere) and
// sees the other missions' exact-kind index rows of those digests and their cases, nothing
// else, and may add its record to the chain of each mission that holds one (000038).
package database
