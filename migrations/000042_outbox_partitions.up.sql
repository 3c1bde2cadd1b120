-- Outbox consumers partitioned across replicas (issue 19; internal/outbox/doc.go argues it).
--
-- A consumer's events are split into partitions by a hash of their aggregate (a case's events
-- all fall in one partition, so they keep their order), and each partition has its own cursor
-- and its own lease: the replica holding a partition's lease applies its events, so N
-- replicas apply N partitions at a time. The cursor and the lease live in the same row of the
-- consumer's own cursor table, so that a drain locks, checks (holder and generation: the
-- fence) and moves both in the one transaction that applies the events.
--
-- The cursor tables stay outside row-level security (000007): they hold positions in the
-- outbox for every mission at once, no mission's data, and each is granted to its own
-- consumer's role only, which confines each consumer to its own leases.
--
-- The move from one cursor to many: every existing cursor row becomes partition 0 of a
-- consumer with one partition (partitions = 1), which is exactly what it was. A consumer
-- configured with more partitions spreads it when it first starts (outbox.Consumer): it
-- copies partition 0's position into every new partition in one transaction, so that every
-- event at or before it stays applied and every event after it is applied once, by the
-- partition its aggregate falls in.

-- outbox.partition_of: the partition, among partitions, of an aggregate. The last eight hex
-- digits of the UUID are random in version 4 and version 7 UUIDs alike (the first ones of a
-- version 7 UUID are its time), so aggregates spread evenly.
CREATE FUNCTION outbox.partition_of(aggregate uuid, partitions int) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ((('x' || right(aggregate::text, 8))::bit(32)::int & 2147483647) % partitions);

-- A partition's events in commit order, for the default count of 16 (a consumer with another
-- count reads event_tx and filters: correct, slower). CREATE INDEX holds writes to
-- outbox.event while it builds; on a large production outbox, build it beforehand with
-- CREATE INDEX CONCURRENTLY under this name.
CREATE INDEX IF NOT EXISTS event_partition16 ON outbox.event (outbox.partition_of(aggregate_id, 16), tx_id, event_id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['returns.outbox_cursor', 'trafficking.outbox_cursor', 'hasm.outbox_cursor',
    'analytics_state.outbox_cursor', 'referral.outbox_cursor', 'followup.outbox_cursor',
    'handover.outbox_cursor', 'intake.outbox_cursor']
  LOOP
    EXECUTE format($s$ALTER TABLE %s
      ADD COLUMN partition int NOT NULL DEFAULT 0,
      ADD COLUMN partitions int NOT NULL DEFAULT 1,
      ADD COLUMN holder text,
      ADD COLUMN generation bigint NOT NULL DEFAULT 0,
      ADD COLUMN lease_until timestamptz,
      ADD CONSTRAINT outbox_cursor_partition CHECK (partitions >= 1 AND partition >= 0 AND partition < partitions),
      DROP CONSTRAINT outbox_cursor_pkey,
      ADD PRIMARY KEY (name, partition)$s$, t);
  END LOOP;
END $$;
