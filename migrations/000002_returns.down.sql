-- The role is cluster-wide and kept (see 000001); its grants here go with the schema.
DROP SCHEMA returns CASCADE;
