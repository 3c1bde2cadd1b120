-- HQ analytics (passage.analytics.v1.AnalyticsService): anonymised counts derived from the
-- services' outbox events, with two roles so that what reads the events never answers queries.
--
--   passage_analytics            the QUERY role. Reads the anonymised tables of schema
--                                analytics only (rollup, victim_record), in a transaction
--                                declared for HQ. No grant on vault, intake, the programme
--                                schemas, outbox or analytics_state: outbox events carry
--                                pseudonymous subject ids, which are not anonymised, so its
--                                grant on outbox.event (000001, 000007) is taken back here.
--   passage_analytics_projector  the PROJECTOR role (services/analytics/projector). Reads
--                                every producer's outbox events as a declared consumer, keeps
--                                the pseudonymous state it needs to count correctly in
--                                analytics_state, and writes the anonymised tables.
--
-- Schema analytics holds no subject id, case id, mission or date finer than a year: a row
-- cannot be linked back to a person or a case by anyone, even with every key. Its tables are
-- read across missions by design (HQ counts every mission's people), so they carry no mission
-- column; row-level security still holds them, with named policies: only HQ-declared
-- transactions of the query role read them, only declared outbox-consumer transactions of the
-- projector write them. Erasing a person (crypto-shredding) touches none of these rows: the
-- anonymised statistics outlive the identity, as ARCHITECTURE.md promises.
--
-- Only persons whose consent to anonymised statistics is in force when an event is applied
-- are counted (in_statistics in intake's events, see internal/consent). A withdrawal acts from
-- then on: counts made before it stay, as figures already published do, and nothing after it
-- counts the person.
--
-- Codes are the protobuf enum value names without their prefix ("AVRR", "FEMALE", "18_20",
-- "MEDICAL_NEEDS"), countries ISO 3166-1 alpha-3; 'UNKNOWN' is a value not recorded, '' a
-- dimension that does not apply to the measure (no return country for a registration).

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_analytics') THEN
    CREATE ROLE passage_analytics LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_analytics_projector') THEN
    CREATE ROLE passage_analytics_projector LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

-- The query role no longer reads the outbox: events are pseudonymous, not anonymised.
DROP POLICY analytics_reads_events ON outbox.event;
REVOKE ALL ON outbox.event FROM passage_analytics;
REVOKE USAGE ON SCHEMA outbox FROM passage_analytics;

-- The privacy ledger (000015) lives in this schema too.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA analytics_state;

-- analytics.fact: one de-identified row per person counted by an event, e.g. each traveller
-- of a departure. The projector keeps them so that the rollup can be rebuilt and checked
-- (SELECT measure, year, ..., count(*) FROM analytics.fact GROUP BY every key = the rollup).
--   event_id, ordinal  the outbox event the fact came from and the person's place in it: the
--                      idempotency key (an event applied twice adds nothing), not a link to a
--                      person (the query role cannot read the outbox, nor this table).
--   year               the year of the measure's date (registration, departure, first delivery
--                      of an assistance type in the year, identification, decision); the
--                      published granularity, so no finer date is kept.
--   vulnerabilities, exploitation_types, means_of_control   sorted sets of codes.
CREATE TABLE analytics.fact (
  fact_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id           bigint NOT NULL,
  ordinal            smallint NOT NULL CHECK (ordinal >= 0),
  measure            text NOT NULL CHECK (measure IN ('CASES_REGISTERED', 'PERSONS_RETURNED',
                       'PERSONS_ASSISTED', 'VICTIMS_IDENTIFIED', 'HASM_REQUESTS_APPROVED',
                       'HASM_REQUESTS_REJECTED')),
  year               smallint NOT NULL CHECK (year BETWEEN 1900 AND 2999),
  programme          text NOT NULL CHECK (programme IN ('AVRR', 'VOT', 'HASM')),
  sex                text NOT NULL,
  age_band           text NOT NULL,
  nationality        text NOT NULL CHECK (nationality ~ '^([A-Z]{3}|UNKNOWN)$'),
  host_country       text NOT NULL CHECK (host_country ~ '^([A-Z]{3}|UNKNOWN)$'),
  return_country     text NOT NULL CHECK (return_country ~ '^([A-Z]{3}|UNKNOWN)?$'),
  vulnerabilities    text[] NOT NULL,
  assistance_type    text NOT NULL,
  exploitation_types text[] NOT NULL,
  means_of_control   text[] NOT NULL,
  UNIQUE (event_id, measure, ordinal)
);

-- analytics.rollup: the number of persons per combination of every dimension, maintained by
-- the projector in the same transaction as the facts it counts. It is what the query side
-- reads: its size grows with the number of distinct combinations, not with the number of
-- persons (a few hundred thousand rows for ten million persons), and the service keeps a
-- dictionary-encoded columnar copy of it in memory.
--   Key: every column but persons and tx_id. Regions are not stored: they are derived from the
--   countries at query time (internal/region), so a change of the grouping needs no rebuild.
--   vulnerabilities and exploitation_types are the person's whole sorted set ('{}' for none),
--   so that a count without them is not inflated; grouping by them explodes the set.
--   persons: the count, >= 0 (a victim's count moves to another exploitation set when the
--   details are recorded after the identification, which may leave a row at 0; rows are never
--   deleted, and the engine skips zero counts).
--   tx_id: the transaction that last changed the row. The service refreshes its copy
--   incrementally: it reads rows with tx_id in [previous horizon, current horizon), where the
--   horizon is pg_snapshot_xmin(pg_current_snapshot()) taken in the same statement; every
--   transaction below it has ended, so a row committed late is never skipped (see
--   internal/outbox). Any writer, the bulk loader included, is picked up that way: it only has
--   to keep the DEFAULT (or set pg_current_xact_id()) on every insert and update.
CREATE TABLE analytics.rollup (
  measure            text NOT NULL,
  year               smallint NOT NULL,
  programme          text NOT NULL,
  sex                text NOT NULL,
  age_band           text NOT NULL,
  nationality        text NOT NULL,
  host_country       text NOT NULL,
  return_country     text NOT NULL,
  vulnerabilities    text[] NOT NULL,
  assistance_type    text NOT NULL,
  exploitation_types text[] NOT NULL,
  persons            bigint NOT NULL CHECK (persons >= 0),
  tx_id              xid8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (measure, year, programme, sex, age_band, nationality, host_country,
               return_country, vulnerabilities, assistance_type, exploitation_types)
);
CREATE INDEX rollup_tx ON analytics.rollup (tx_id);

-- analytics.victim_record: one de-identified row per identified victim of trafficking counted
-- in statistics, for the CTDC-layout export (which generalises further and verifies
-- k-anonymity before release). Quasi-identifiers only, coded: gender, broad age band,
-- citizenship, the exploitation types and means of control, the (first) country of
-- exploitation, the year of registration. record_id is a surrogate with no meaning outside
-- this table. Rows are updated when the exploitation details are recorded after the
-- identification.
CREATE TABLE analytics.victim_record (
  record_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  year                    smallint NOT NULL CHECK (year BETWEEN 1900 AND 2999),
  gender                  text NOT NULL,
  age_broad               text NOT NULL,
  citizenship             text NOT NULL CHECK (citizenship ~ '^([A-Z]{3}|UNKNOWN)$'),
  exploitation_types      text[] NOT NULL,
  means_of_control        text[] NOT NULL,
  country_of_exploitation text NOT NULL CHECK (country_of_exploitation ~ '^([A-Z]{3}|UNKNOWN)$')
);

-- analytics_state: what the projector must remember between events to count correctly, keyed
-- by the pseudonymous ids the events carry (as pseudonymous as the programme services' own
-- projections, and readable by the projector alone). Mission rows, under the usual
-- mission_isolation policy: the projector writes each event's rows under the event's mission.

-- analytics_state."case": every case of intake, as its latest event describes it.
--   registration_counted: whether CASES_REGISTERED has counted the principal (when the case
--   was registered, or later when their statistics consent was first recorded).
CREATE TABLE analytics_state."case" (
  case_id              uuid PRIMARY KEY,
  mission              text NOT NULL,
  programme            text NOT NULL,
  intake_version       bigint NOT NULL,
  host_country         text NOT NULL,
  vulnerabilities      text[] NOT NULL,
  registration_year    smallint NOT NULL,
  registration_counted boolean NOT NULL DEFAULT false
);

-- analytics_state.member: the people of a case, coded, with whether they may be counted.
CREATE TABLE analytics_state.member (
  case_id       uuid NOT NULL REFERENCES analytics_state."case" (case_id),
  mission       text NOT NULL,
  position      smallint NOT NULL CHECK (position >= 0),
  subject_id    uuid NOT NULL,
  sex           text NOT NULL,
  age_band      text NOT NULL,
  nationality   text NOT NULL,
  in_statistics boolean NOT NULL,
  PRIMARY KEY (case_id, subject_id)
);

-- analytics_state.assisted: the persons already counted for an assistance type in a year, so
-- that PERSONS_ASSISTED counts a person once per type and year.
CREATE TABLE analytics_state.assisted (
  subject_id      uuid NOT NULL,
  mission         text NOT NULL,
  assistance_type text NOT NULL,
  year            smallint NOT NULL,
  PRIMARY KEY (subject_id, assistance_type, year)
);

-- analytics_state.victim: the victim record (if any) of a VoT case, so that exploitation
-- details recorded later update it, and VICTIMS_IDENTIFIED counts a victim once.
--   fact_id: the VICTIMS_IDENTIFIED fact, whose exploitation sets follow the record's.
CREATE TABLE analytics_state.victim (
  case_id   uuid PRIMARY KEY,
  mission   text NOT NULL,
  record_id bigint NOT NULL,
  fact_id   bigint NOT NULL
);

-- analytics_state.outbox_cursor: where the projector stands in the outbox. Not mission data.
CREATE TABLE analytics_state.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Row-level security. The state tables hold a mission's rows: the usual policy.
ALTER TABLE analytics_state."case" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics_state.member ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics_state.assisted ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics_state.victim ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY mission_isolation ON analytics_state."case"
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY mission_isolation ON analytics_state.member
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY mission_isolation ON analytics_state.assisted
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY mission_isolation ON analytics_state.victim
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- Exception: the anonymised tables hold no mission's rows (every mission's people, counted
-- together, unlinkable), so no mission column and no mission policy. They are read across
-- missions by design, by HQ only: the query role reads them in a transaction declared for HQ.
-- The projector writes them in its consumer transactions only.
ALTER TABLE analytics.fact ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.rollup ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.victim_record ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY hq_reads_anonymised ON analytics.rollup FOR SELECT TO passage_analytics
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY hq_reads_anonymised ON analytics.victim_record FOR SELECT TO passage_analytics
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY projector_writes ON analytics.fact TO passage_analytics_projector
  USING (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL)
  WITH CHECK (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);
CREATE POLICY projector_writes ON analytics.rollup TO passage_analytics_projector
  USING (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL)
  WITH CHECK (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);
CREATE POLICY projector_writes ON analytics.victim_record TO passage_analytics_projector
  USING (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL)
  WITH CHECK (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Exception: the projector reads every producer's events, as a declared consumer (one commit
-- order across missions is what makes it exactly once in effect, see 000007).
CREATE POLICY analytics_projector_reads_events ON outbox.event FOR SELECT TO passage_analytics_projector
  USING (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Grants. The query role: the anonymised tables it answers from, nothing else.
GRANT USAGE ON SCHEMA analytics TO passage_analytics;
GRANT SELECT ON analytics.rollup, analytics.victim_record TO passage_analytics;
-- The projector: reads events, keeps its state, appends facts (changing only a victim's
-- exploitation sets afterwards), maintains the rollup and the victim records. It deletes
-- nothing.
GRANT USAGE ON SCHEMA analytics, analytics_state, outbox TO passage_analytics_projector;
GRANT SELECT ON outbox.event TO passage_analytics_projector;
GRANT SELECT, INSERT ON analytics.fact TO passage_analytics_projector;
GRANT UPDATE (exploitation_types, means_of_control) ON analytics.fact TO passage_analytics_projector;
GRANT SELECT, INSERT, UPDATE ON analytics.rollup, analytics.victim_record TO passage_analytics_projector;
GRANT SELECT, INSERT, UPDATE ON analytics_state."case", analytics_state.member,
  analytics_state.assisted, analytics_state.victim, analytics_state.outbox_cursor
  TO passage_analytics_projector;
