-- The role is cluster-wide and kept (000014 owns it too); the webhook tables and their grants
-- go with them. The schema itself is dropped only when empty, as 000014 may share it.
DROP TABLE webhook.attempt;
DROP TABLE webhook.delivery;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'webhook') THEN
    DROP SCHEMA webhook;
  END IF;
  -- The audit grant is the referral service's as well once 000014 is applied: keep it then.
  IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'referral') THEN
    REVOKE INSERT ON audit.record FROM passage_referral;
    REVOKE USAGE ON SCHEMA audit FROM passage_referral;
  END IF;
END
$$;
