ALTER TABLE hasm."case" DROP COLUMN assistance_allowed;
ALTER TABLE trafficking.victim_case DROP COLUMN assistance_allowed;
ALTER TABLE returns."case" DROP COLUMN assistance_allowed;

DROP TABLE intake.consent_withdrawal;

-- The old table knew only the principal's consents: household members' records go. The
-- principal's later records stay, read as more consents given at registration.
DELETE FROM intake.consent x USING intake."case" c
WHERE c.case_id = x.case_id AND x.subject_id <> c.principal_subject_id;

ALTER TABLE intake.consent
  DROP CONSTRAINT consent_partner_check,
  DROP CONSTRAINT consent_basis_check,
  DROP CONSTRAINT consent_subject_fkey,
  DROP CONSTRAINT consent_consent_id_key,
  DROP COLUMN partner_category,
  DROP COLUMN legal_basis,
  DROP COLUMN subject_id,
  DROP COLUMN consent_id;
