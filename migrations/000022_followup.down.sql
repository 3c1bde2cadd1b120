-- The role is cluster-wide and kept; its grants go with the schema, and on the shared tables here.
DROP POLICY followup_reads_programme_events ON outbox.event;
DROP SCHEMA followup CASCADE;
REVOKE ALL ON audit.record FROM passage_followup;
REVOKE ALL ON outbox.event FROM passage_followup;
REVOKE USAGE ON SCHEMA outbox, audit FROM passage_followup;
