ALTER TABLE trafficking.victim_case DROP COLUMN intake_version;
