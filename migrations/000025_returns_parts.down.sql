-- Back to one mission per return: the fact tables' parent-based mission_isolation of 000007,
-- no recording mission, no grants.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['eligibility_decision', 'pre_departure_step', 'departure', 'arrival',
    'reintegration_plan', 'assistance', 'monitoring_visit', 'status_change'] LOOP
    EXECUTE format('DROP POLICY recorder_adds ON returns.%1$I', t);
    EXECUTE format('DROP POLICY IF EXISTS recorder_and_transfer_read ON returns.%1$I', t);
    EXECUTE format('DROP POLICY IF EXISTS recorder_and_grants_read ON returns.%1$I', t);
    EXECUTE format('DROP POLICY IF EXISTS recorder_and_sender_read ON returns.%1$I', t);
    EXECUTE format('DROP POLICY IF EXISTS recorder_reads ON returns.%1$I', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON returns.%1$I
      USING (EXISTS (SELECT FROM returns."return" p WHERE p.case_id = %1$I.case_id
                     AND p.mission = nullif(current_setting('passage.mission', true), '')))
      WITH CHECK (EXISTS (SELECT FROM returns."return" p WHERE p.case_id = %1$I.case_id
                     AND p.mission = nullif(current_setting('passage.mission', true), '')))$p$, t);
    EXECUTE format('ALTER TABLE returns.%1$I DROP COLUMN mission', t);
  END LOOP;
END
$$;

DROP POLICY grantee_moves ON returns."return";
DROP POLICY grantee_reads ON returns."return";
DROP POLICY grantee_reads ON returns.case_member;
DROP POLICY grantee_reads ON returns."case";
DROP POLICY passage_returns_reads_handover_acceptances ON outbox.event;
DROP TABLE returns.part;
