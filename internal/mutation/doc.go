// Package mutation is the epilogue every mutating RPC shares, written once. On an existing
// aggregate (a case, a return, a request) a service describes its aggregate once (a Kind: how
// to lock it, read its version and mission, write it back, name a stale version) and each RPC
// is then its own logic (a Change) and one call to Kind.Run. An RPC that creates an aggregate
// is its own checks, its rows (a Write) and one call to Creator.Create.
//
// Run's contract, for one Mutation:
//
//   - One transaction, declared for the caller's mission (database.DB.MissionTx), or for a
//     partner agency's caller its partner when the Kind lets partners in (Kind.Partners,
//     database.DB.PartnerTx), holds everything: the aggregate's new state, the change's own
//     writes, the outbox event, the audit record and the idempotency record (the first
//     result). Either all of them commit or none does.
//   - Idempotency: the aggregate's row is locked first and the request id looked up second,
//     on purpose: two racing retries of one request queue on the lock, and the second then
//     replays the first one's result instead of failing on the version the first one moved.
//     A replay changes nothing and runs neither the version check nor the Change.
//   - Versions: the version the caller read must be the aggregate's current one, or Run
//     fails with the Kind's stale error and changes nothing. A successful change writes the
//     aggregate at version+1 (Step.Version) and time Step.Now, read once from the Kind's clock.
//     An aggregate without a version (Kind.Version nil: who may work on a case, a break-glass
//     grant) is checked against none and written back by the Change itself, if at all.
//   - Audit and outbox: exactly one audit record (audit.For the caller, the aggregate's
//     mission and id, with the request id as the client request) and exactly one outbox event
//     (the event the Change returns, under the Kind's producer and the aggregate's id and
//     mission) per change; none for a replay or a failure. A Change that returns no event
//     (nil: a break-glass grant is audited, not published) writes the audit record alone. A Change may queue records of its
//     own beside them (a transition row, a second audit record on another aggregate it
//     touches); they share the transaction and its fate.
//   - Races: when the idempotency record loses the race to a retry that committed first, the
//     rolled-back result is discarded and the winner's first result is read back into the
//     response (idempotency.Store.Settle), so both calls answer alike. Mutation.Applied, when
//     set, tells the caller whether its own Change is the one that committed.
//   - Errors: the Kind's own errors (parse, not found, stale) and the Change's are returned
//     unchanged, for the service to map to a status; Run adds none of its own but what the
//     database, the outbox and the idempotency store return.
//
// Create's contract, for one New:
//
//   - The caller replays the request before its own reads and checks
//     (idempotency.Store.Replay), so that a retry is answered whatever changed since; Create
//     then writes what the first call does.
//   - One implicit transaction (one batch, declared for the caller's mission) holds the rows
//     Write queues, the outbox event it returns (under the Creator's producer, New's id and
//     mission), one audit record (audit.For the caller, New's mission and id, with the request
//     id) and the idempotency record (the first result, New.Resp). All commit or none does.
//   - Races: a racing retry that committed first is settled as in Run (the winner's first
//     result, and New.Applied false); any other error, a unique violation of the aggregate's
//     own included, is returned unchanged for the service to map.
package mutation
