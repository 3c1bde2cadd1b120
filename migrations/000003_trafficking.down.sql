-- The role is kept (roles are cluster-wide); its grants here go with the schema.
REVOKE SELECT, INSERT ON outbox.event FROM passage_trafficking;
REVOKE USAGE ON SCHEMA outbox FROM passage_trafficking;
DROP SCHEMA trafficking CASCADE;
