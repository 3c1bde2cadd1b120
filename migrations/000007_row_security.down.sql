-- Undoes 000007: every policy and the row-level security of every table, then intake's
-- children's mission columns and the foreign keys they were part of.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'vault.identity', 'vault.blind_index',
    'intake."case"', 'intake.case_member', 'intake.consent', 'intake.idempotency',
    'outbox.event',
    'returns."case"', 'returns.case_member', 'returns."return"', 'returns.eligibility_decision',
    'returns.pre_departure_step', 'returns.departure', 'returns.arrival', 'returns.reintegration_plan',
    'returns.assistance', 'returns.monitoring_visit', 'returns.status_change', 'returns.idempotency',
    'trafficking.victim_case', 'trafficking.assistance', 'trafficking.idempotency',
    'hasm."case"', 'hasm.case_member', 'hasm.request', 'hasm.idempotency'
  ] LOOP
    EXECUTE format('DROP POLICY mission_isolation ON %s', t);
    EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;

DROP POLICY hq_reads_requests ON hasm.request;
DROP POLICY hq_decides_requests ON hasm.request;
DROP POLICY hq_reads_cases ON hasm."case";
DROP POLICY hq_records_decisions ON outbox.event;
DROP POLICY consumers_read_intake_events ON outbox.event;
DROP POLICY analytics_reads_events ON outbox.event;
DROP POLICY declared_mission_reads ON hasm.fund;
DROP POLICY declared_mission_updates ON hasm.fund;
DROP POLICY hq_creates ON hasm.fund;
ALTER TABLE hasm.fund NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;

ALTER TABLE intake.consent DROP CONSTRAINT consent_case_fkey,
  ADD CONSTRAINT consent_case_id_fkey FOREIGN KEY (case_id) REFERENCES intake."case" (case_id) ON DELETE CASCADE,
  DROP COLUMN mission;
ALTER TABLE intake.case_member DROP CONSTRAINT case_member_case_fkey,
  ADD CONSTRAINT case_member_case_id_fkey FOREIGN KEY (case_id) REFERENCES intake."case" (case_id) ON DELETE CASCADE,
  DROP COLUMN mission;
ALTER TABLE intake."case" DROP CONSTRAINT case_case_id_mission_key;
