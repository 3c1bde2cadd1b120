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
//
// # Partitions and replicas
//
// A consumer's events are split into ConsumerConfig.Partitions partitions by a hash of their
// aggregate id (outbox.partition_of, migration 000042): every event about one aggregate (a
// case, and a hand-over's events, which are filed under the case) falls in one partition and
// is applied in commit order there. Not by mission: one large mission would be one partition,
// and a replica could not help another with it. Order between aggregates is not kept across
// partitions, so a consumer whose handlers read another aggregate's state keeps one
// partition (the default). The services' consumers use IndexedPartitions (16, the count
// migration 000042's index serves), each handler reading only its event's case; the analytics
// projector keeps one, since its referral events, filed under the referral, read their case,
// and all its events add to a few shared rollup rows (projector.New says more). A request
// about one case catches up on that case's partition only (CatchUpOn).
//
// Each partition has one row in the consumer's cursor table: its cursor and its lease
// (holder, generation, expiry). Every drain of a partition locks that row, reads the events
// past the cursor, applies them and moves the cursor in one transaction: the row lock, not
// the lease, is what applies each event once, so any replica may drain any partition
// (CatchUp does, so a service waiting for its projection sees the event at once, whoever
// leases the partition). The lease says which replica Run drains a partition on; each poll
// asks, in one query, which of its partitions have events below the horizon (or were taken
// by another replica), and drains only those, so an idle replica costs one query a poll, not
// a transaction a partition. Every LeaseTTL/5 (default 1 s) a replica renews its leases and
// balances (Consumer.Balance): the live replicas are those holding unexpired leases, each should hold ceil(P / live); one
// above gives partitions up, one below takes free or expired partitions, then those of a
// replica above its share. Taking a lease raises its generation; Run's drain checks holder
// and generation under the row lock (the fence), so a replica that stalled and lost its
// lease commits nothing more on that partition, and a partition whose drain holds its row
// is never taken mid-drain. A replica that dies keeps its partitions until its leases
// expire (LeaseTTL, default 5 s); one that stops gives them up at once.
//
// The cursor tables stay in each consumer's own schema, outside row-level security: they
// hold positions for every mission, no mission's data, and each consumer's role is the only
// one granted its table, which also keeps a consumer out of another's leases. A consumer of
// one partition configured with more spreads its cursor once: every partition starts where
// the one cursor stood. Other changes of the count are refused (re-splitting partitions at
// different positions would apply events twice or not at all).
package outbox
