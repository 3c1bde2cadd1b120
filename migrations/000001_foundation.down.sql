-- Roles are cluster-wide and may serve other databases: they are kept, their grants here go
-- with the schemas.
DROP SCHEMA outbox CASCADE;
DROP SCHEMA intake CASCADE;
DROP SCHEMA vault CASCADE;
GRANT USAGE ON SCHEMA public TO PUBLIC;
