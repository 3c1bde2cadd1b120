-- The role is cluster-wide and kept; its grants go with the schema.
DROP SCHEMA audit CASCADE;
