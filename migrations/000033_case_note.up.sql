-- Case notes (issue 18): free text caseworkers write on a case, served by
-- passage.casenote.v1.CaseNoteService under the intake role. A note is identity-grade (it names
-- people and places): its text is sealed with the data key of the person it is about (the key
-- vault.identity holds, bound to the note, its version and the person), so that erasing the
-- person (crypto-shredding: their vault row deleted) leaves every note about them unreadable.
-- These tables hold ciphertext, ids, codes and times only.
--
-- A note is its writer's mission's: mission is the mission whose staff wrote it, not
-- necessarily the case's (a mission a case was handed over to keeps notes of its own on it).
-- Row-level security by that mission alone: no policy shares a note with another mission, the
-- case's owner and a receiving mission included.

-- intake.case_note: one note, as its current version stands.
CREATE TABLE intake.case_note (
  note_id     uuid PRIMARY KEY,
  mission     text NOT NULL,
  case_id     uuid NOT NULL REFERENCES intake."case" (case_id),
  subject_id  uuid NOT NULL,
  sensitivity text NOT NULL CHECK (sensitivity IN ('NORMAL', 'RESTRICTED', 'CONFIDENTIAL')),
  version     bigint NOT NULL CHECK (version > 0),
  author      text NOT NULL CHECK (length(author) BETWEEN 1 AND 128),
  updated_by  text NOT NULL CHECK (length(updated_by) BETWEEN 1 AND 128),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
-- ListCaseNotes: a mission's notes on a case, newest first, keyset-paginated.
CREATE INDEX case_note_case ON intake.case_note (case_id, mission, created_at DESC, note_id DESC);

-- intake.case_note_version: every version of every note, as written; never changed nor
-- deleted. text is the ciphertext (Tink AES256-GCM under the person's data key).
CREATE TABLE intake.case_note_version (
  note_id     uuid NOT NULL REFERENCES intake.case_note (note_id),
  version     bigint NOT NULL CHECK (version > 0),
  mission     text NOT NULL,
  sensitivity text NOT NULL CHECK (sensitivity IN ('NORMAL', 'RESTRICTED', 'CONFIDENTIAL')),
  text        bytea NOT NULL,
  author      text NOT NULL CHECK (length(author) BETWEEN 1 AND 128),
  written_at  timestamptz NOT NULL,
  PRIMARY KEY (note_id, version)
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['intake.case_note', 'intake.case_note_version'] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

-- A note's current state moves forward (an edit); its versions are only ever added.
GRANT SELECT, INSERT ON intake.case_note TO passage_intake;
GRANT UPDATE (sensitivity, version, updated_by, updated_at) ON intake.case_note TO passage_intake;
GRANT SELECT, INSERT ON intake.case_note_version TO passage_intake;
