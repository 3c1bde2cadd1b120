-- Documents (issue 18): files attached to a case, each about one of its people (scans,
-- photos, certificates, signed forms), served by passage.document.v1.DocumentService under
-- the intake role. A file is identity-grade: each chunk of its bytes is sealed with the data
-- key of the person it is about (bound to the document, the chunk's index and the person), so
-- that erasing the person (crypto-shredding: their vault row deleted) leaves every document
-- about them unreadable. Neither the file's name nor a plain hash of its bytes is kept: its
-- SHA-256 is sealed like its bytes (a plain hash of a passport scan would identify it).
--
-- A document is its uploader's mission's: mission is the mission whose staff uploaded it, not
-- necessarily the case's (a mission a case was handed over to keeps documents of its own).
-- Row-level security by that mission alone: no policy shares a document with another mission.
-- Nothing is ever deleted nor changed: a document goes with its person (erasure).

-- intake.document: one document's metadata. checksum is the sealed SHA-256 of the bytes.
CREATE TABLE intake.document (
  document_id uuid PRIMARY KEY,
  mission     text NOT NULL,
  case_id     uuid NOT NULL REFERENCES intake."case" (case_id),
  subject_id  uuid NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('PASSPORT_SCAN', 'PHOTO', 'MEDICAL_CERTIFICATE', 'SIGNED_CONSENT', 'OTHER')),
  media_type  text NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png', 'image/tiff')),
  size_bytes  bigint NOT NULL CHECK (size_bytes > 0),
  chunks      integer NOT NULL CHECK (chunks > 0),
  checksum    bytea NOT NULL,
  uploaded_by text NOT NULL CHECK (length(uploaded_by) BETWEEN 1 AND 128),
  created_at  timestamptz NOT NULL
);
-- ListDocuments: a mission's documents on a case, newest first, keyset-paginated.
CREATE INDEX document_case ON intake.document (case_id, mission, created_at DESC, document_id DESC);

-- intake.document_chunk: a document's bytes, chunk by chunk, each sealed (Tink AES256-GCM
-- under the person's data key). The chunks are written as they arrive, before the document's
-- row (in the same transaction): the reference is checked at commit.
CREATE TABLE intake.document_chunk (
  document_id uuid NOT NULL REFERENCES intake.document (document_id) DEFERRABLE INITIALLY DEFERRED,
  chunk_index integer NOT NULL CHECK (chunk_index >= 0),
  mission     text NOT NULL,
  data        bytea NOT NULL,
  PRIMARY KEY (document_id, chunk_index)
);
-- Ciphertext does not compress: stored out of line as it is, without trying.
ALTER TABLE intake.document_chunk ALTER COLUMN data SET STORAGE EXTERNAL;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['intake.document', 'intake.document_chunk'] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT ON intake.document, intake.document_chunk TO passage_intake;
