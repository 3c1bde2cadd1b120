-- The role is cluster-wide and kept; its grants go with the schema, and on the shared tables here.
DROP POLICY handover_reads_intake_events ON outbox.event;
DROP SCHEMA handover CASCADE;
REVOKE ALL ON audit.record FROM passage_handover;
REVOKE ALL ON outbox.event FROM passage_handover;
REVOKE USAGE ON SCHEMA outbox, audit FROM passage_handover;
