-- AVRR: Assisted Voluntary Return and Reintegration (passage.returns.v1.ReturnService).
--
-- returns reads intake's events into a projection of the AVRR cases (subject ids and coded
-- attributes only), keeps one return per case and every fact recorded on it, and writes its
-- own events. Facts are append-only: the role may insert and read them, never change or
-- delete one. It has no grant on vault, intake or any other service's schema.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_returns') THEN
    CREATE ROLE passage_returns LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA returns;

-- returns."case": the AVRR cases of intake, as its events describe them. Never identity.
CREATE TABLE returns."case" (
  case_id              uuid PRIMARY KEY,
  mission              text NOT NULL,
  -- intake's status and version of the case; an event older than the row is ignored.
  intake_status        text NOT NULL,
  intake_version       bigint NOT NULL,
  principal_subject_id uuid NOT NULL,
  host_country         text NOT NULL CHECK (host_country ~ '^[A-Z]{3}$'),
  vulnerabilities      text[] NOT NULL DEFAULT '{}'
);

-- returns.case_member: the people of a case, coded. position 0 is the principal applicant.
CREATE TABLE returns.case_member (
  case_id     uuid NOT NULL REFERENCES returns."case" (case_id),
  position    smallint NOT NULL CHECK (position >= 0),
  subject_id  uuid NOT NULL,
  sex         text NOT NULL,
  age_band    text NOT NULL,
  nationality text CHECK (nationality ~ '^[A-Z]{3}$'),
  PRIMARY KEY (case_id, position),
  UNIQUE (case_id, subject_id)
);

-- returns."return": one return per AVRR case, its status and version. The facts are in the
-- tables below, each row with the version it made.
CREATE TABLE returns."return" (
  case_id        uuid PRIMARY KEY REFERENCES returns."case" (case_id),
  mission        text NOT NULL,
  status         text NOT NULL CHECK (status IN ('COUNSELLING', 'ELIGIBLE', 'NOT_ELIGIBLE', 'DEPARTED',
                   'ARRIVED', 'REINTEGRATION', 'CLOSED')),
  version        bigint NOT NULL CHECK (version > 0),
  closure_reason text,
  -- The status a closed return was closed in, where ReopenReturn takes it back.
  closed_from    text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'CLOSED') = (closure_reason IS NOT NULL)),
  CHECK ((status = 'CLOSED') = (closed_from IS NOT NULL))
);
-- ListReturns: a mission's returns, newest first, keyset-paginated.
CREATE INDEX return_mission_created ON returns."return" (mission, created_at DESC, case_id DESC);

-- Every fact table: the version the fact made, who recorded it (pseudonymous staff id), when.

CREATE TABLE returns.eligibility_decision (
  case_id              uuid NOT NULL REFERENCES returns."return" (case_id),
  version              bigint NOT NULL,
  eligibility          text NOT NULL CHECK (eligibility IN ('ELIGIBLE', 'NOT_ELIGIBLE')),
  ineligibility_reason text,
  counselled_on        date,
  decided_on           date NOT NULL,
  recorded_by          text NOT NULL,
  recorded_at          timestamptz NOT NULL,
  PRIMARY KEY (case_id, version),
  CHECK ((eligibility = 'NOT_ELIGIBLE') = (ineligibility_reason IS NOT NULL))
);

-- returns.pre_departure_step: kind says which step; outcome holds its code (the document
-- type, the fit-to-travel result, the travel mode, the best-interests outcome, the risk level).
CREATE TABLE returns.pre_departure_step (
  case_id     uuid NOT NULL REFERENCES returns."return" (case_id),
  version     bigint NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('TRAVEL_DOCUMENT', 'FIT_TO_TRAVEL', 'BOOKING', 'MEDICAL_ESCORT',
                'GUARDIAN_APPOINTED', 'BEST_INTERESTS_ASSESSMENT', 'RISK_ASSESSMENT')),
  subject_id  uuid,
  outcome     text,
  done_on     date NOT NULL,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (case_id, version)
);

CREATE TABLE returns.departure (
  case_id                uuid PRIMARY KEY REFERENCES returns."return" (case_id),
  version                bigint NOT NULL,
  departure_date         date NOT NULL,
  return_country         text NOT NULL CHECK (return_country ~ '^[A-Z]{3}$'),
  travelling_subject_ids uuid[] NOT NULL CHECK (cardinality(travelling_subject_ids) > 0),
  recorded_by            text NOT NULL,
  recorded_at            timestamptz NOT NULL
);

CREATE TABLE returns.arrival (
  case_id              uuid PRIMARY KEY REFERENCES returns.departure (case_id),
  version              bigint NOT NULL,
  arrival_date         date NOT NULL,
  reception_assistance text[] NOT NULL DEFAULT '{}',
  recorded_by          text NOT NULL,
  recorded_at          timestamptz NOT NULL
);

-- returns.reintegration_plan: every version of a return's plan; the latest holds.
CREATE TABLE returns.reintegration_plan (
  case_id      uuid NOT NULL REFERENCES returns.arrival (case_id),
  version      bigint NOT NULL,
  planned_on   date NOT NULL,
  economic     text[] NOT NULL DEFAULT '{}',
  social       text[] NOT NULL DEFAULT '{}',
  psychosocial text[] NOT NULL DEFAULT '{}',
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL,
  PRIMARY KEY (case_id, version)
);

CREATE TABLE returns.assistance (
  assistance_id  uuid PRIMARY KEY,
  case_id        uuid NOT NULL REFERENCES returns.arrival (case_id),
  version        bigint NOT NULL,
  type           text NOT NULL,
  dimension      text NOT NULL CHECK (dimension IN ('ECONOMIC', 'SOCIAL', 'PSYCHOSOCIAL')),
  amount_minor   bigint CHECK (amount_minor >= 0),
  currency       text CHECK (currency ~ '^[A-Z]{3}$'),
  delivered_on   date NOT NULL,
  provider       text NOT NULL,
  subject_id     uuid NOT NULL,
  recorded_by    text NOT NULL,
  recorded_at    timestamptz NOT NULL,
  UNIQUE (case_id, version),
  CHECK ((amount_minor IS NULL) = (currency IS NULL))
);

-- returns.monitoring_visit: RSS answers as parallel arrays (indicator i scored scores[i]).
CREATE TABLE returns.monitoring_visit (
  visit_id           uuid PRIMARY KEY,
  case_id            uuid NOT NULL REFERENCES returns.arrival (case_id),
  version            bigint NOT NULL,
  visited_on         date NOT NULL,
  indicator_ids      text[] NOT NULL DEFAULT '{}',
  indicator_scores   double precision[] NOT NULL DEFAULT '{}',
  economic_score     double precision NOT NULL CHECK (economic_score BETWEEN 0 AND 1),
  social_score       double precision NOT NULL CHECK (social_score BETWEEN 0 AND 1),
  psychosocial_score double precision NOT NULL CHECK (psychosocial_score BETWEEN 0 AND 1),
  composite_score    double precision NOT NULL CHECK (composite_score BETWEEN 0 AND 1),
  recorded_by        text NOT NULL,
  recorded_at        timestamptz NOT NULL,
  UNIQUE (case_id, version),
  CHECK (cardinality(indicator_ids) = cardinality(indicator_scores))
);

-- returns.status_change: every closing and reopening.
CREATE TABLE returns.status_change (
  case_id        uuid NOT NULL REFERENCES returns."return" (case_id),
  version        bigint NOT NULL,
  from_status    text NOT NULL,
  to_status      text NOT NULL,
  closure_reason text,
  reopen_reason  text,
  recorded_by    text NOT NULL,
  recorded_at    timestamptz NOT NULL,
  PRIMARY KEY (case_id, version),
  CHECK ((closure_reason IS NULL) <> (reopen_reason IS NULL))
);

-- returns.idempotency: the first result of every mutating call (see intake.idempotency).
CREATE TABLE returns.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- returns.outbox_cursor: where the intake consumer stands in the outbox.
CREATE TABLE returns.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Grants: the projection and the return row change; facts and idempotency records are only
-- ever added. Nothing is deleted. Events are read (to learn of cases) and written.
GRANT USAGE ON SCHEMA returns, outbox TO passage_returns;
GRANT SELECT, INSERT, UPDATE ON returns."case", returns.case_member, returns."return" TO passage_returns;
GRANT SELECT, INSERT ON returns.eligibility_decision, returns.pre_departure_step, returns.departure,
  returns.arrival, returns.reintegration_plan, returns.assistance, returns.monitoring_visit,
  returns.status_change, returns.idempotency TO passage_returns;
GRANT SELECT, INSERT, UPDATE ON returns.outbox_cursor TO passage_returns;
GRANT SELECT, INSERT ON outbox.event TO passage_returns;
