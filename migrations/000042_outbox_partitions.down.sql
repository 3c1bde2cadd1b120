-- Back to one cursor per consumer. A partitioned consumer's partitions stand at different
-- positions: the one cursor keeps the lowest of them, so nothing is skipped; the events past
-- it that other partitions applied already are offered again (the projections' versions and
-- ON CONFLICT clauses make a repeat harmless, as after a rewound cursor).
DO $$
DECLARE
  t text;
BEGIN
  -- Every consumer's cursor table that the up migration partitioned.
  FOR t IN SELECT format('%I.%I', table_schema, table_name) FROM information_schema.columns
    WHERE table_name = 'outbox_cursor' AND column_name = 'partitions'
  LOOP
    EXECUTE format($s$UPDATE %1$s c SET tx_id = m.tx_id, event_id = m.event_id
      FROM (SELECT DISTINCT ON (name) name, tx_id, event_id FROM %1$s ORDER BY name, tx_id, event_id) m
      WHERE c.name = m.name AND c.partition = 0$s$, t);
    EXECUTE format('DELETE FROM %s WHERE partition <> 0', t);
    EXECUTE format($s$ALTER TABLE %s
      DROP CONSTRAINT outbox_cursor_pkey,
      DROP CONSTRAINT outbox_cursor_partition,
      DROP COLUMN partition, DROP COLUMN partitions, DROP COLUMN holder, DROP COLUMN generation,
      DROP COLUMN lease_until,
      ADD PRIMARY KEY (name)$s$, t);
  END LOOP;
END $$;

DROP INDEX IF EXISTS outbox.event_partition16;
DROP FUNCTION outbox.partition_of(uuid, int);
