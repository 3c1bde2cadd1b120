-- Outbound webhook deliveries to partner agencies (internal/webhook): the queue a referral's
-- change writes to in its own transaction, and the record of every attempt to deliver it.
--
-- A delivery holds the CloudEvents JSON envelope exactly as it will be signed and sent, so
-- every attempt sends the same bytes under the same webhook-id. Payloads are thin (ids, status,
-- links): no identity ever enters this schema. The referral core (000014) creates the same
-- schema and role when it runs first; both use IF NOT EXISTS.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_referral') THEN
    CREATE ROLE passage_referral LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS webhook;

-- webhook.delivery: one event for one partner. delivery_id orders the deliveries of an
-- ordering key: webhook.Queue takes a transaction-scoped advisory lock on the key before its
-- insert, so a second transaction queueing for the same key draws its id only after the first
-- has committed or rolled back, and ids are commit order per key.
CREATE TABLE webhook.delivery (
  delivery_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mission         text NOT NULL,
  partner_id      uuid NOT NULL,
  ordering_key    uuid NOT NULL,
  -- event_id is the CloudEvents id and the webhook-id header: stable across retries and replays.
  event_id        text NOT NULL CHECK (event_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  event_type      text NOT NULL,
  body            bytea NOT NULL CHECK (octet_length(body) <= 65536),
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  -- attempts counts every attempt ever made (attempt rows are numbered by it);
  -- attempts_at_queue is where the count stood when the delivery was last queued (0, or the
  -- count at its last replay): the attempt budget and max age run from there.
  attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  attempts_at_queue integer NOT NULL DEFAULT 0 CHECK (attempts_at_queue >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  queued_at       timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A worker that claims a delivery leases it until lease_until and marks it lease_token: no
  -- other worker takes it before the lease ends, and only the holder records the outcome.
  lease_until     timestamptz,
  lease_token     uuid,
  finished_at     timestamptz,
  -- last_error is a short, sanitised status line ("HTTP 503 Service Unavailable", "timeout"),
  -- never a response body: a partner's answer may echo what it was sent.
  last_error      text CHECK (char_length(last_error) <= 120),
  replayed        integer NOT NULL DEFAULT 0,
  UNIQUE (delivery_id, mission),
  UNIQUE (partner_id, event_id),
  CHECK ((state = 'pending') = (finished_at IS NULL))
);
-- The worker looks for the head (lowest pending delivery_id) of each ordering key.
CREATE INDEX delivery_pending ON webhook.delivery (partner_id, ordering_key, delivery_id) WHERE state = 'pending';
CREATE INDEX delivery_due ON webhook.delivery (next_attempt_at) WHERE state = 'pending';
CREATE INDEX delivery_mission ON webhook.delivery (mission, state, delivery_id);

-- webhook.attempt: one row per attempt, for operators and partners asking what happened.
CREATE TABLE webhook.attempt (
  delivery_id  bigint NOT NULL,
  mission      text NOT NULL,
  attempt      integer NOT NULL CHECK (attempt > 0),
  attempted_at timestamptz NOT NULL,
  duration_ms  integer NOT NULL CHECK (duration_ms >= 0),
  -- status_code is the HTTP status, NULL when no response came (timeout, reset, refused).
  status_code  integer CHECK (status_code BETWEEN 100 AND 599),
  outcome      text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
  error        text CHECK (char_length(error) <= 120),
  PRIMARY KEY (delivery_id, attempt),
  FOREIGN KEY (delivery_id, mission) REFERENCES webhook.delivery (delivery_id, mission) ON DELETE CASCADE
);

-- Row-level security: a transaction sees and writes the deliveries of the mission it declared
-- (the referral service queueing a referral's event, a partner's view of its deliveries).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook.delivery', 'webhook.attempt'] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

-- Exception: the delivery worker delivers for every mission. One queue across missions is what
-- lets a few workers keep every partner's order and share the load (FOR UPDATE SKIP LOCKED);
-- splitting the claim by mission would have each worker poll every mission. A transaction that
-- declared itself the worker (set_config('passage.webhook_worker', name, true), see
-- internal/database) may read and update deliveries and record attempts of any mission; it
-- cannot create a delivery (deliveries come from a mission's transaction) nor delete one. The
-- operator's replay (passage referral deliveries replay) runs under the same declaration.
CREATE POLICY worker_reads ON webhook.delivery FOR SELECT TO passage_referral
  USING (nullif(current_setting('passage.webhook_worker', true), '') IS NOT NULL);
CREATE POLICY worker_updates ON webhook.delivery FOR UPDATE TO passage_referral
  USING (nullif(current_setting('passage.webhook_worker', true), '') IS NOT NULL)
  WITH CHECK (nullif(current_setting('passage.webhook_worker', true), '') IS NOT NULL);
CREATE POLICY worker_reads ON webhook.attempt FOR SELECT TO passage_referral
  USING (nullif(current_setting('passage.webhook_worker', true), '') IS NOT NULL);
CREATE POLICY worker_records ON webhook.attempt FOR INSERT TO passage_referral
  WITH CHECK (nullif(current_setting('passage.webhook_worker', true), '') IS NOT NULL);

-- Least privilege: no DELETE, no TRUNCATE; the identity's sequence is used by INSERT.
GRANT USAGE ON SCHEMA webhook TO passage_referral;
GRANT SELECT, INSERT, UPDATE ON webhook.delivery TO passage_referral;
GRANT SELECT, INSERT ON webhook.attempt TO passage_referral;

-- A replay is a mutation and is audited (one record per delivery, in the replay's
-- transaction). 000014 grants the same to the referral service; granting twice is harmless.
GRANT USAGE ON SCHEMA audit TO passage_referral;
GRANT INSERT ON audit.record TO passage_referral;
