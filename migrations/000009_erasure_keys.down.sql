REVOKE SELECT, INSERT ON vault.erasure FROM passage_intake;
REVOKE DELETE ON vault.identity FROM passage_intake;
ALTER TABLE intake."case" DROP CONSTRAINT case_closed_at;
ALTER TABLE intake."case" DROP COLUMN closed_at;
DROP TRIGGER identity_delete_needs_erasure ON vault.identity;
DROP FUNCTION vault.identity_delete_needs_erasure();
DROP TABLE vault.erasure;
DROP INDEX vault.identity_kek_key;
ALTER TABLE vault.identity DROP COLUMN kek_key_id;
