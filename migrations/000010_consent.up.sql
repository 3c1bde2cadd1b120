-- Consent per person and purpose, with its history.
--
-- intake.consent becomes the append-only history of consent records: each row is one
-- decision for one person of the case (consent given or refused, or the legal basis the
-- processing rests on instead), for one purpose and, for data sharing, one partner or partner
-- category. A new decision is a new row; a withdrawal is a row of intake.consent_withdrawal.
-- Nothing is updated or deleted: the service role keeps SELECT and INSERT only. The state in
-- force is derived: the latest record per (person, purpose, partner, category), unless
-- withdrawn.

ALTER TABLE intake.consent
  ADD COLUMN consent_id uuid,
  ADD COLUMN subject_id uuid,
  ADD COLUMN legal_basis text NOT NULL DEFAULT 'CONSENT' CHECK (legal_basis IN ('CONSENT', 'VITAL_INTERESTS',
    'LEGAL_OBLIGATION', 'PUBLIC_INTEREST', 'CONTRACT', 'LEGITIMATE_INTERESTS')),
  ADD COLUMN partner_category text NOT NULL DEFAULT '' CHECK (partner_category IN ('', 'UN_AGENCY', 'NGO',
    'GOVERNMENT', 'SERVICE_PROVIDER'));

-- The consents recorded at registration so far were the principal applicant's.
UPDATE intake.consent x SET consent_id = gen_random_uuid(), subject_id = c.principal_subject_id
FROM intake."case" c WHERE c.case_id = x.case_id;

ALTER TABLE intake.consent
  ALTER COLUMN consent_id SET NOT NULL,
  ALTER COLUMN subject_id SET NOT NULL,
  ADD CONSTRAINT consent_consent_id_key UNIQUE (consent_id),
  -- A record is for a person of its case.
  ADD CONSTRAINT consent_subject_fkey FOREIGN KEY (case_id, subject_id)
    REFERENCES intake.case_member (case_id, subject_id) ON DELETE CASCADE,
  -- With a legal basis other than consent, the record does not say the person consented.
  ADD CONSTRAINT consent_basis_check CHECK (legal_basis = 'CONSENT' OR NOT granted),
  -- Data sharing names one partner or one category; other purposes name neither.
  ADD CONSTRAINT consent_partner_check CHECK (CASE WHEN purpose = 'DATA_SHARING'
    THEN (partner <> '') <> (partner_category <> '')
    ELSE partner = '' AND partner_category = '' END);

-- intake.consent_withdrawal: the withdrawal of a consent record, at most one per record. It
-- holds a mission's rows, so row-level security keeps each mission to its own.
CREATE TABLE intake.consent_withdrawal (
  consent_id   uuid PRIMARY KEY REFERENCES intake.consent (consent_id) ON DELETE CASCADE,
  case_id      uuid NOT NULL,
  mission      text NOT NULL,
  withdrawn_on date NOT NULL,
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_withdrawal_case ON intake.consent_withdrawal (case_id);

ALTER TABLE intake.consent_withdrawal ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake.consent_withdrawal FORCE ROW LEVEL SECURITY;
CREATE POLICY consent_withdrawal_mission ON intake.consent_withdrawal
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

GRANT SELECT, INSERT ON intake.consent_withdrawal TO passage_intake;

-- The programme services' projections keep whether the principal applicant's assistance is
-- allowed (a consent or legal basis for ASSISTANCE in force), from intake's events. Every
-- case projected so far was registered with the assistance consent it required and nothing
-- could withdraw it, hence true for the existing rows; new rows always say.
ALTER TABLE returns."case" ADD COLUMN assistance_allowed boolean NOT NULL DEFAULT true;
ALTER TABLE returns."case" ALTER COLUMN assistance_allowed DROP DEFAULT;
ALTER TABLE trafficking.victim_case ADD COLUMN assistance_allowed boolean NOT NULL DEFAULT true;
ALTER TABLE trafficking.victim_case ALTER COLUMN assistance_allowed DROP DEFAULT;
ALTER TABLE hasm."case" ADD COLUMN assistance_allowed boolean NOT NULL DEFAULT true;
ALTER TABLE hasm."case" ALTER COLUMN assistance_allowed DROP DEFAULT;
