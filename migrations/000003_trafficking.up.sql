-- Assistance to victims of trafficking (VoT): the trafficking service's own schema.
--
-- victim_case holds one row per VoT case of intake, projected from intake's outbox events
-- (subject ids and coded attributes only) together with the VoT facts recorded on it. VoT
-- records are the most sensitive in the system: nothing here names a person, nothing is free
-- text, and only passage_trafficking is granted anything on this schema.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_trafficking') THEN
    CREATE ROLE passage_trafficking LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA trafficking;

CREATE TABLE trafficking.victim_case (
  case_id                   uuid PRIMARY KEY,
  mission                   text NOT NULL,
  status                    text NOT NULL CHECK (status IN
                              ('AWAITING_SCREENING', 'PRESUMED_VICTIM', 'IDENTIFIED_VICTIM', 'NOT_A_VICTIM', 'CLOSED')),
  closure_reason            text,
  version                   bigint NOT NULL DEFAULT 1 CHECK (version > 0),
  -- The people of the case, position 0 the principal, as parallel arrays of codes.
  subject_ids               uuid[] NOT NULL CHECK (cardinality(subject_ids) >= 1),
  sexes                     text[] NOT NULL,
  age_bands                 text[] NOT NULL,
  nationalities             text[] NOT NULL,
  host_country              text NOT NULL CHECK (host_country ~ '^[A-Z]{3}$'),
  vulnerabilities           text[] NOT NULL DEFAULT '{}',
  registration_date         date NOT NULL,
  intake_status             text NOT NULL,
  registered_at             timestamptz NOT NULL,
  -- Screening: the latest outcome.
  identification_status     text CHECK (identification_status IN ('PRESUMED_VICTIM', 'IDENTIFIED_VICTIM', 'NOT_A_VICTIM')),
  identified_by             text,
  identification_date       date,
  -- Exploitation details (CTDC / HTCDS codes); exploitation_types is NULL until recorded.
  exploitation_types        text[],
  means_of_control          text[],
  recruiter_relationship    text,
  exploitation_countries    text[],
  exploitation_start_year   int,
  exploitation_end_year     int,
  child_at_exploitation     boolean,
  cooperation_status        text,
  cooperation_date          date,
  risk_level                text CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
  risk_date                 date,
  risk_factors              text[],
  -- Intake cases opened from this one for the same people (a return through AVRR).
  linked_case_ids           uuid[] NOT NULL DEFAULT '{}',
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'CLOSED') = (closure_reason IS NOT NULL)),
  CHECK (cardinality(sexes) = cardinality(subject_ids) AND cardinality(age_bands) = cardinality(subject_ids)
         AND cardinality(nationalities) = cardinality(subject_ids)),
  CHECK (exploitation_end_year IS NULL OR exploitation_start_year IS NULL OR exploitation_end_year >= exploitation_start_year)
);
-- ListVictimCases: a mission's cases, newest registration first, keyset-paginated.
CREATE INDEX victim_case_mission_registered ON trafficking.victim_case (mission, registered_at DESC, case_id DESC);

-- assistance: direct assistance records, in the order recorded.
CREATE TABLE trafficking.assistance (
  assistance_id uuid PRIMARY KEY,
  case_id       uuid NOT NULL REFERENCES trafficking.victim_case (case_id),
  type          text NOT NULL,
  start_date    date NOT NULL,
  end_date      date CHECK (end_date >= start_date),
  provider      text NOT NULL CHECK (provider ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
  recorded_by   text NOT NULL,
  recorded_at   timestamptz NOT NULL
);
CREATE INDEX assistance_case ON trafficking.assistance (case_id, recorded_at, assistance_id);

-- idempotency: the first result of every mutating call (the pseudonymised case only).
CREATE TABLE trafficking.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- outbox_cursor: where the consumer of intake's events stands.
CREATE TABLE trafficking.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Grants: the trafficking role reads and writes its own tables (no DELETE: records are never
-- removed), reads and writes events, and has nothing on vault, intake or any other schema.
GRANT USAGE ON SCHEMA trafficking, outbox TO passage_trafficking;
GRANT SELECT, INSERT, UPDATE ON trafficking.victim_case, trafficking.assistance, trafficking.outbox_cursor TO passage_trafficking;
GRANT SELECT, INSERT ON trafficking.idempotency TO passage_trafficking;
GRANT SELECT, INSERT ON outbox.event TO passage_trafficking;
