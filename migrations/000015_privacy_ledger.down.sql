-- Undoes 000015. The role stays (roles are cluster-wide, never dropped by a migration); the
-- analytics schema goes only when nothing else lives in it (the analytics service's own
-- migration may have put its tables there).
REVOKE INSERT ON audit.record FROM passage_analytics;
REVOKE USAGE ON SCHEMA audit FROM passage_analytics;
DROP TABLE analytics.privacy_ledger;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'analytics')
     AND NOT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'analytics')
     AND NOT EXISTS (SELECT FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'analytics') THEN
    REVOKE USAGE ON SCHEMA analytics FROM passage_analytics;
    DROP SCHEMA analytics;
  END IF;
END
$$;
