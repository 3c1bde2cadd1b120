-- A case opened from another one (intake.OpenCase) records where it came from: a victim of
-- trafficking's AVRR case points at the VoT case, sharing subject ids, never identity.
ALTER TABLE intake."case" ADD COLUMN opened_from_case_id uuid REFERENCES intake."case" (case_id);
CREATE INDEX case_opened_from ON intake."case" (opened_from_case_id) WHERE opened_from_case_id IS NOT NULL;
