-- Each service writes only its own events. Until now any service role could insert an outbox
-- event under any producer name for its declared mission; since the hand-over, an event of
-- another service grants something (HandoverAccepted gives a mission parts of a case, and
-- intake opens identity to it), so a role that could write one could grant itself a case.
-- Restrictive policies, one per service role, hold every insert to the role's own producer;
-- the permissive policies that say for which mission stay as they are.
DO $$
DECLARE
  pair text[];
BEGIN
  FOREACH pair SLICE 1 IN ARRAY ARRAY[
    ['passage_intake', 'intake'], ['passage_returns', 'returns'], ['passage_trafficking', 'trafficking'],
    ['passage_hasm', 'hasm'], ['passage_referral', 'referral'], ['passage_followup', 'followup'],
    ['passage_handover', 'handover']
  ] LOOP
    EXECUTE format($p$CREATE POLICY %I ON outbox.event AS RESTRICTIVE FOR INSERT TO %I
      WITH CHECK (producer = %L)$p$, pair[2] || '_writes_own_events', pair[1], pair[2]);
  END LOOP;
END
$$;
