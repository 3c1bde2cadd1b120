-- The role is cluster-wide and kept; its grants go with the schema, and on the outbox here.
DROP SCHEMA hasm CASCADE;
REVOKE ALL ON outbox.event FROM passage_hasm;
REVOKE USAGE ON SCHEMA outbox FROM passage_hasm;
