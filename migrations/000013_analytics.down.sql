-- Undoes 000013: the analytics tables and the projector's grants go; the query role reads the
-- outbox again as 000001 and 000007 left it. The roles are cluster-wide and kept. The schema
-- analytics is dropped only when nothing else (000015's ledger) is left in it.
DROP POLICY analytics_projector_reads_events ON outbox.event;
REVOKE ALL ON outbox.event FROM passage_analytics_projector;
REVOKE USAGE ON SCHEMA outbox FROM passage_analytics_projector;

DROP SCHEMA analytics_state CASCADE;
DROP TABLE analytics.fact, analytics.rollup, analytics.victim_record;
REVOKE ALL ON SCHEMA analytics FROM passage_analytics, passage_analytics_projector;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'analytics') THEN
    DROP SCHEMA analytics;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA outbox TO passage_analytics;
GRANT SELECT ON outbox.event TO passage_analytics;
CREATE POLICY analytics_reads_events ON outbox.event FOR SELECT TO passage_analytics
  USING (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);
