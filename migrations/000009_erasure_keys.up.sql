-- Erasure (crypto-shredding), key-encryption-key rotation and retention.

-- Which KEK key wrapped each data key. Tink prefixes every wrap with the id of the KEK key
-- that made it; the column copies that id so that "how many people still depend on key K"
-- (retire refuses while any do) and "the next rows to re-wrap" are index look-ups.
-- NULL: written before this migration; the re-wrap fills it in, and retire counts these
-- rows as possibly using any key.
ALTER TABLE vault.identity ADD COLUMN kek_key_id bigint CHECK (kek_key_id BETWEEN 0 AND 4294967295);
CREATE INDEX identity_kek_key ON vault.identity (kek_key_id);

-- vault.erasure: one row per erased person, written in the same transaction as the deletion
-- of their vault rows. It names no one: the subject id is random and the rest is coded.
CREATE TABLE vault.erasure (
  subject_id uuid PRIMARY KEY,
  mission    text NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('DATA_SUBJECT_REQUEST', 'RETENTION_EXPIRED', 'CONSENT_WITHDRAWN', 'UNLAWFUL_PROCESSING')),
  -- The staff member (token subject) who asked, or 'retention' for the retention job.
  erased_by  text NOT NULL,
  erased_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasure_mission ON vault.erasure (mission, erased_at);

ALTER TABLE vault.erasure ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault.erasure FORCE ROW LEVEL SECURITY;
CREATE POLICY erasure_mission ON vault.erasure
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- An identity disappears only as an erasure: the delete is refused unless the erasure is
-- recorded first, in the same transaction. This keeps a bug, or a stolen intake connection,
-- from silently shredding people, and every erasure accountable.
CREATE FUNCTION vault.identity_delete_needs_erasure() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM vault.erasure e WHERE e.subject_id = OLD.subject_id) THEN
    RAISE EXCEPTION 'an identity is deleted only with its erasure recorded'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER identity_delete_needs_erasure BEFORE DELETE ON vault.identity
  FOR EACH ROW EXECUTE FUNCTION vault.identity_delete_needs_erasure();

-- When a case closed, for retention: closure is final (nothing leaves CLOSED), so this is
-- set once. Cases closed before this migration take their last change as closure time.
ALTER TABLE intake."case" ADD COLUMN closed_at timestamptz;
UPDATE intake."case" SET closed_at = updated_at WHERE status = 'CLOSED';
ALTER TABLE intake."case" ADD CONSTRAINT case_closed_at CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL));

-- Intake erases (on request, and as the retention job) and re-wraps data keys (UPDATE,
-- already granted).
GRANT DELETE ON vault.identity TO passage_intake;
GRANT SELECT, INSERT ON vault.erasure TO passage_intake;

-- The retention job looks, across missions, for people all of whose cases closed long enough
-- ago (internal/retention). It declares passage.maintenance = 'retention' and may then read
-- the rows that question needs, and nothing else of another mission: it erases each person in
-- a transaction declared for the person's own mission, under the usual policies.
CREATE POLICY retention_finds_due ON vault.identity FOR SELECT TO passage_intake
  USING (current_setting('passage.maintenance', true) = 'retention');
CREATE POLICY retention_finds_due ON intake."case" FOR SELECT TO passage_intake
  USING (current_setting('passage.maintenance', true) = 'retention');
CREATE POLICY retention_finds_due ON intake.case_member FOR SELECT TO passage_intake
  USING (current_setting('passage.maintenance', true) = 'retention');
