-- The role is cluster-wide and kept; its grants go with the schema, and on the shared tables here.
DROP POLICY referral_reads_only_referred ON vault.identity;
DROP POLICY partner_reads_referred_identity ON vault.identity;
DROP POLICY partner_records_audit ON audit.record;
DROP POLICY partner_records_events ON outbox.event;
DROP POLICY referral_reads_intake_events ON outbox.event;
DROP SCHEMA referral CASCADE;
REVOKE ALL ON vault.identity FROM passage_referral;
REVOKE ALL ON audit.record FROM passage_referral;
REVOKE ALL ON outbox.event FROM passage_referral;
REVOKE USAGE ON SCHEMA outbox, audit, vault FROM passage_referral;
