-- Foundation: the identity vault, case intake and the transactional outbox.
--
-- Every service connects with a role of its own that owns nothing and is granted only what
-- it needs. Identity lives only in vault, encrypted by the application; every other table
-- refers to a person by a random subject id and holds coded attributes only.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_intake') THEN
    CREATE ROLE passage_intake LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
  -- HQ analytics reads anonymised events only; created now so the grant model is tested from
  -- the first migration.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_analytics') THEN
    CREATE ROLE passage_analytics LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA vault;
CREATE SCHEMA intake;
CREATE SCHEMA outbox;

-- vault.identity: one row per person. The data key is the person's own AES-256-GCM keyset,
-- wrapped by the key-encryption key; identity is the Person message encrypted with it.
-- Destroying wrapped_key makes identity unrecoverable (crypto-shredding).
CREATE TABLE vault.identity (
  subject_id  uuid PRIMARY KEY,
  mission     text NOT NULL,
  wrapped_key bytea NOT NULL,
  identity    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- vault.blind_index: keyed HMACs of normalised identifiers, to find a person registered
-- twice without storing any identifier in clear.
CREATE TABLE vault.blind_index (
  mission    text NOT NULL,
  digest     bytea NOT NULL,
  subject_id uuid NOT NULL REFERENCES vault.identity (subject_id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('document', 'name_dob_nationality')),
  PRIMARY KEY (mission, digest, subject_id)
);
CREATE INDEX blind_index_subject ON vault.blind_index (subject_id);

CREATE TABLE intake."case" (
  case_id              uuid PRIMARY KEY,
  mission              text NOT NULL,
  programme            text NOT NULL CHECK (programme IN ('AVRR', 'VOT', 'HASM')),
  status               text NOT NULL CHECK (status IN ('REGISTERED', 'ACTIVE', 'SUSPENDED', 'CLOSED')),
  closure_reason       text,
  version              bigint NOT NULL DEFAULT 1 CHECK (version > 0),
  principal_subject_id uuid NOT NULL,
  host_country         text NOT NULL CHECK (host_country ~ '^[A-Z]{3}$'),
  vulnerabilities      text[] NOT NULL DEFAULT '{}',
  registration_date    date NOT NULL,
  created_by           text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'CLOSED') = (closure_reason IS NOT NULL))
);
-- ListCases: a mission's cases, newest first, keyset-paginated.
CREATE INDEX case_mission_created ON intake."case" (mission, created_at DESC, case_id DESC);

-- intake.case_member: the people of a case, coded. position 0 is the principal applicant.
CREATE TABLE intake.case_member (
  case_id     uuid NOT NULL REFERENCES intake."case" (case_id) ON DELETE CASCADE,
  position    smallint NOT NULL CHECK (position >= 0),
  subject_id  uuid NOT NULL,
  sex         text NOT NULL CHECK (sex IN ('FEMALE', 'MALE', 'OTHER', 'UNKNOWN')),
  age_band    text NOT NULL,
  nationality text CHECK (nationality ~ '^[A-Z]{3}$'),
  PRIMARY KEY (case_id, position),
  UNIQUE (case_id, subject_id)
);
CREATE INDEX case_member_subject ON intake.case_member (subject_id);

CREATE TABLE intake.consent (
  case_id     uuid NOT NULL REFERENCES intake."case" (case_id) ON DELETE CASCADE,
  position    smallint NOT NULL,
  purpose     text NOT NULL CHECK (purpose IN ('ASSISTANCE', 'DATA_SHARING', 'STATISTICS')),
  granted     boolean NOT NULL,
  given_on    date NOT NULL,
  partner     text NOT NULL DEFAULT '',
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, position)
);

-- intake.idempotency: the first result of every mutating call, by the caller's mission and
-- request id. The response holds the pseudonymised case only; fingerprint is a keyed hash of
-- the request, to refuse a request id reused for a different request.
CREATE TABLE intake.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- outbox.event: every change's event, written in the same transaction as the change.
-- tx_id lets a consumer read in commit order without missing a late-committing event.
CREATE TABLE outbox.event (
  event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  producer     text NOT NULL,
  event_type   text NOT NULL,
  aggregate_id uuid NOT NULL,
  mission      text NOT NULL,
  payload      bytea NOT NULL,
  occurred_at  timestamptz NOT NULL DEFAULT now(),
  tx_id        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX event_tx ON outbox.event (tx_id, event_id);

-- Grants: intake writes cases, identities and events; it cannot read events back nor delete
-- anything. Analytics reads events only: no grant on vault or intake at all.
GRANT USAGE ON SCHEMA vault, intake, outbox TO passage_intake;
GRANT SELECT, INSERT, UPDATE ON vault.identity TO passage_intake;
GRANT SELECT, INSERT, DELETE ON vault.blind_index TO passage_intake;
GRANT SELECT, INSERT, UPDATE ON intake."case", intake.case_member TO passage_intake;
GRANT SELECT, INSERT ON intake.consent, intake.idempotency TO passage_intake;
GRANT INSERT ON outbox.event TO passage_intake;

GRANT USAGE ON SCHEMA outbox TO passage_analytics;
GRANT SELECT ON outbox.event TO passage_analytics;
