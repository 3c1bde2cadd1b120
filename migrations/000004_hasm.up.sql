-- HASM: Humanitarian Assistance for Stranded Migrants (passage.hasm.v1.StrandedMigrantService).
--
-- A mission's request for a stranded migrant's return, decided at HQ against a fund with a
-- yearly budget. hasm reads intake's events into a projection of the HASM cases (subject ids
-- and coded attributes only) and writes its own events; it has no grant on vault or intake.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_hasm') THEN
    CREATE ROLE passage_hasm LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA hasm;

-- hasm."case": the HASM cases of intake, as its events describe them. Never identity.
CREATE TABLE hasm."case" (
  case_id              uuid PRIMARY KEY,
  mission              text NOT NULL,
  -- intake's status and version of the case; an event older than the row is ignored.
  intake_status        text NOT NULL,
  intake_version       bigint NOT NULL,
  principal_subject_id uuid NOT NULL,
  host_country         text NOT NULL CHECK (host_country ~ '^[A-Z]{3}$'),
  vulnerabilities      text[] NOT NULL DEFAULT '{}'
);

-- hasm.case_member: the people of a case, coded. position 0 is the principal applicant.
CREATE TABLE hasm.case_member (
  case_id     uuid NOT NULL REFERENCES hasm."case" (case_id),
  position    smallint NOT NULL CHECK (position >= 0),
  subject_id  uuid NOT NULL,
  sex         text NOT NULL,
  age_band    text NOT NULL,
  nationality text CHECK (nationality ~ '^[A-Z]{3}$'),
  PRIMARY KEY (case_id, position),
  UNIQUE (case_id, subject_id)
);

-- hasm.fund: a yearly budget HQ approves requests against, in minor units of its currency.
-- committed is what approved requests hold; the CHECK is the last guard against an overdraft
-- (DecideRequest refuses one first, under the row lock).
CREATE TABLE hasm.fund (
  fund_id    uuid PRIMARY KEY,
  code       text NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'),
  year       integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  budget     bigint NOT NULL CHECK (budget >= 0),
  committed  bigint NOT NULL DEFAULT 0 CHECK (committed >= 0),
  version    bigint NOT NULL DEFAULT 1 CHECK (version > 0),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (code, year),
  CHECK (committed <= budget)
);

-- hasm.request: one assistance request per HASM case, from request to return.
CREATE TABLE hasm.request (
  case_id                    uuid PRIMARY KEY REFERENCES hasm."case" (case_id),
  mission                    text NOT NULL,
  status                     text NOT NULL CHECK (status IN ('REQUESTED', 'APPROVED', 'REJECTED', 'DEPARTED', 'ARRIVED', 'CLOSED')),
  version                    bigint NOT NULL CHECK (version > 0),
  principal_subject_id       uuid NOT NULL,
  host_country               text NOT NULL CHECK (host_country ~ '^[A-Z]{3}$'),
  stranded_reason            text NOT NULL,
  no_other_assistance_reason text NOT NULL,
  estimated_cost             bigint NOT NULL CHECK (estimated_cost > 0),
  currency                   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  fund_code                  text NOT NULL,
  fund_year                  integer NOT NULL,
  requested_by               text NOT NULL,
  approved_amount            bigint CHECK (approved_amount > 0),
  rejection_reason           text,
  decided_by                 text,
  decided_at                 timestamptz,
  departure_date             date,
  return_country             text CHECK (return_country ~ '^[A-Z]{3}$'),
  travelling_subject_ids     uuid[] NOT NULL DEFAULT '{}',
  arrival_date               date,
  closure_reason             text,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (fund_code, fund_year) REFERENCES hasm.fund (code, year),
  CHECK ((status = 'REJECTED') = (rejection_reason IS NOT NULL)),
  CHECK ((status = 'CLOSED') = (closure_reason IS NOT NULL)),
  CHECK (status NOT IN ('APPROVED', 'DEPARTED', 'ARRIVED') OR approved_amount IS NOT NULL),
  CHECK (status NOT IN ('DEPARTED', 'ARRIVED') OR departure_date IS NOT NULL),
  CHECK (status <> 'ARRIVED' OR arrival_date IS NOT NULL)
);
-- ListRequests: a mission's requests, and HQ's view of all, newest first, keyset-paginated.
CREATE INDEX request_mission_created ON hasm.request (mission, created_at DESC, case_id DESC);
CREATE INDEX request_created ON hasm.request (created_at DESC, case_id DESC);

-- hasm.idempotency: the first result of every mutating call (see intake.idempotency).
CREATE TABLE hasm.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- hasm.outbox_cursor: where the intake consumer stands in the outbox.
CREATE TABLE hasm.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Grants: hasm writes its own tables and events and reads events to learn of cases; it
-- deletes nothing and has no grant on vault, intake or any other service's schema.
GRANT USAGE ON SCHEMA hasm, outbox TO passage_hasm;
GRANT SELECT, INSERT, UPDATE ON hasm."case", hasm.case_member, hasm.fund, hasm.request TO passage_hasm;
GRANT SELECT, INSERT ON hasm.idempotency TO passage_hasm;
GRANT SELECT, INSERT, UPDATE ON hasm.outbox_cursor TO passage_hasm;
GRANT SELECT, INSERT ON outbox.event TO passage_hasm;
