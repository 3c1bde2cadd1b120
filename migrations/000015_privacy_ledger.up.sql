-- The privacy ledger: every differentially private public release, and the epsilon it spent,
-- so that no consumer of HQ's statistics is given more than its yearly privacy budget
-- (internal/privacy).
--
-- The analytics schema and role may also be created by the analytics service's own migration;
-- whichever runs first creates them, so both say IF NOT EXISTS.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_analytics') THEN
    CREATE ROLE passage_analytics LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS analytics;

-- analytics.privacy_ledger: one row per release. No personal data: the consumer is the code
-- of whoever the figures are released to (a data portal, a partner, a pseudonymous staff id),
-- what is a coded description of the query (measure, dimensions, filters, as enum names and
-- codes), never free text. epsilon is numeric, not double precision, so that spends add up
-- exactly: ten spends of 0.1 are 1, not 0.9999999999999999, and the budget check compares
-- exact sums.
CREATE TABLE analytics.privacy_ledger (
  release_id uuid PRIMARY KEY,
  consumer   text NOT NULL CHECK (consumer ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
  -- at is when the figures were released; year is its calendar year in UTC, the period the
  -- budget is counted over.
  at         timestamptz NOT NULL,
  year       integer NOT NULL CHECK (year = extract(year FROM at AT TIME ZONE 'UTC')),
  epsilon    numeric NOT NULL CHECK (epsilon > 0),
  what       text NOT NULL CHECK (what ~ '^[A-Za-z0-9_.:=,;/|+-]+$' AND length(what) <= 512),
  recorded_at timestamptz NOT NULL DEFAULT now()
);
-- The budget check sums a consumer's year.
CREATE INDEX privacy_ledger_consumer_year ON analytics.privacy_ledger (consumer, year);

-- Row-level security, but not by mission: the ledger is HQ's, like the HASM funds. Releases
-- are made at HQ from every mission's anonymised figures at once, so a row belongs to no
-- mission, and a consumer's budget must be counted across all of them. The policy lets only
-- a transaction declared for HQ read or add a release: a service transaction declared for a
-- country mission sees an empty ledger and cannot spend.
ALTER TABLE analytics.privacy_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.privacy_ledger FORCE ROW LEVEL SECURITY;
CREATE POLICY ledger_hq ON analytics.privacy_ledger
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ')
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');

-- Grants: analytics records releases and reads them back, and nothing else. No UPDATE, DELETE
-- or TRUNCATE: a spend, once recorded, cannot be undone to make room in a budget.
GRANT USAGE ON SCHEMA analytics TO passage_analytics;
GRANT SELECT, INSERT ON analytics.privacy_ledger TO passage_analytics;

-- A spend is a mutation, audited in the same transaction (HQ's chain, like the funds).
GRANT USAGE ON SCHEMA audit TO passage_analytics;
GRANT INSERT ON audit.record TO passage_analytics;
