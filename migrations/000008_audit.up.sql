-- Audit: who did what to which case, and why, in a record no service can change.
--
-- Every identity read and every mutation inserts one audit.record in the same transaction
-- as the change (for reads, committed before the data is returned). Services may INSERT
-- records and nothing else. A background chainer, connected as passage_auditor, links the
-- committed records of each mission in commit order into a chain of keyed MACs
-- (audit.link); the key is held by the application and never stored here, so neither a
-- service nor the database owner can alter, remove or reorder a chained record without
-- `passage audit verify` naming the first broken link.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_auditor') THEN
    CREATE ROLE passage_auditor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA audit;

-- audit.record: one row per audited call. No personal data: the actor is the pseudonymous
-- staff subject of the token, the aggregate a random id, the reason a code.
CREATE TABLE audit.record (
  record_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- mission owns the data the call touched (HQ for HQ-level data such as funds); the chain
  -- is per mission.
  mission           text NOT NULL,
  actor             text NOT NULL,
  role              text NOT NULL,
  caller_mission    text NOT NULL,
  method            text NOT NULL,
  aggregate_id      uuid,
  -- reason is a coded value from the request (a closure reason, say), or '' when it has none.
  reason            text NOT NULL DEFAULT '',
  -- request_id is the RPC's id (x-request-id, in every log line of the call);
  -- client_request_id the idempotency key of a mutation.
  request_id        text NOT NULL,
  client_request_id uuid,
  occurred_at       timestamptz NOT NULL DEFAULT now(),
  tx_id             xid8 NOT NULL DEFAULT pg_current_xact_id()
);
-- The chainer reads in commit order.
CREATE INDEX record_tx ON audit.record (tx_id, record_id);

-- Row-level security: a service writes only the mission it set for its transaction. The
-- auditor reads every mission's records by design: it chains and verifies them all.
ALTER TABLE audit.record ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.record FORCE ROW LEVEL SECURITY;
CREATE POLICY record_mission ON audit.record
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
-- HQ acts on missions' data (a programme manager deciding a HASM request): its records join the
-- chain of the mission whose data it touched, so an HQ transaction may insert any mission's
-- record. It still reads none of them: this policy is for INSERT only.
CREATE POLICY record_hq_inserts ON audit.record FOR INSERT
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY record_auditor_reads ON audit.record FOR SELECT TO passage_auditor USING (true);

-- audit.link: the chain. Link position n of a mission binds record record_id to the link
-- before it: mac = HMAC(audit key, canonical bytes of the record, its mission and position,
-- prev_mac). Holds no case data, only ids and MACs; written and read across missions by the
-- auditor alone, by design, so it has no mission policy.
CREATE TABLE audit.link (
  mission   text NOT NULL,
  position  bigint NOT NULL CHECK (position > 0),
  -- No foreign key on purpose: a record removed by the owner must leave its link behind
  -- for verification to name it, not take the link with it.
  record_id bigint NOT NULL UNIQUE,
  tx_id     xid8 NOT NULL,
  prev_mac  bytea NOT NULL,
  mac       bytea NOT NULL,
  PRIMARY KEY (mission, position)
);

-- audit.chain_cursor: where the chainer stands in commit order, across missions.
CREATE TABLE audit.chain_cursor (
  name      text PRIMARY KEY,
  tx_id     xid8 NOT NULL,
  record_id bigint NOT NULL
);

-- Grants: every service inserts records and can do nothing else with them (no SELECT,
-- UPDATE, DELETE or TRUNCATE). The auditor reads records and appends links; it can neither
-- change a record nor rewrite a link.
GRANT USAGE ON SCHEMA audit TO passage_intake, passage_returns, passage_trafficking, passage_hasm, passage_auditor;
GRANT INSERT ON audit.record TO passage_intake, passage_returns, passage_trafficking, passage_hasm;
GRANT SELECT ON audit.record TO passage_auditor;
GRANT SELECT, INSERT ON audit.link TO passage_auditor;
GRANT SELECT, INSERT, UPDATE ON audit.chain_cursor TO passage_auditor;
