-- Hand-over between missions (passage.handover.v1.HandoverService, issue 17's first slice).
--
-- handover keeps: the programmes' hand-over data profiles (HQ's, nobody's data), a projection
-- of intake's cases (id, mission, programme, status, principal subject id and the principal's
-- DATA_SHARING consents in force; never identity), the hand-overs with the parts each holds
-- open, and the first result of every mutating call. A hand-over is the one record that two
-- missions share: the sender's and the receiver's, named on the row.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_handover') THEN
    CREATE ROLE passage_handover LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA handover;

-- handover.profile: per programme, the fields a receiving mission may see of a case handed to
-- it. Versions are immutable: the role may insert and read, never update or delete.
CREATE TABLE handover.profile (
  programme    text NOT NULL CHECK (programme IN ('AVRR', 'VOT', 'HASM')),
  version      integer NOT NULL CHECK (version > 0),
  fields       text[] NOT NULL CHECK (cardinality(fields) > 0),
  published_by text NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (programme, version)
);

-- handover."case": intake's cases as its events describe them (every programme), with the ids
-- of the principal's DATA_SHARING consent records in force.
CREATE TABLE handover."case" (
  case_id              uuid PRIMARY KEY,
  mission              text NOT NULL,
  programme            text NOT NULL,
  intake_status        text NOT NULL,
  intake_version       bigint NOT NULL,
  principal_subject_id uuid NOT NULL,
  sharing_consents     uuid[] NOT NULL DEFAULT '{}'
);

-- handover.handover: one hand-over of parts of a case from one mission to another.
CREATE TABLE handover.handover (
  handover_id     uuid PRIMARY KEY,
  case_id         uuid NOT NULL REFERENCES handover."case" (case_id),
  subject_id      uuid NOT NULL,
  programme       text NOT NULL,
  from_mission    text NOT NULL,
  to_mission      text NOT NULL,
  parts           text[] NOT NULL CHECK (cardinality(parts) > 0),
  purpose         text NOT NULL,
  consent_id      uuid,
  legal_basis     text,
  profile_version integer NOT NULL,
  status          text NOT NULL CHECK (status IN ('PROPOSED', 'ACCEPTED', 'DECLINED', 'WITHDRAWN', 'COMPLETED')),
  decline_reason  text,
  version         bigint NOT NULL CHECK (version > 0),
  proposed_by     text NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CHECK (from_mission <> to_mission),
  CHECK ((consent_id IS NULL) <> (legal_basis IS NULL)),
  CHECK ((status = 'DECLINED') = (decline_reason IS NOT NULL)),
  FOREIGN KEY (programme, profile_version) REFERENCES handover.profile (programme, version)
);
-- ListHandovers: a mission's outgoing and incoming, newest first, keyset-paginated.
CREATE INDEX handover_from_created ON handover.handover (from_mission, created_at DESC, handover_id DESC);
CREATE INDEX handover_to_created ON handover.handover (to_mission, created_at DESC, handover_id DESC);

-- handover.part: the parts of the case each hand-over covers (a TRANSFER covers every part
-- of its programme besides TRANSFER itself), open while the hand-over is PROPOSED or ACCEPTED.
-- One part of a case is in one open hand-over at most: the database holds that even when two
-- proposals race.
CREATE TABLE handover.part (
  handover_id  uuid NOT NULL REFERENCES handover.handover (handover_id),
  case_id      uuid NOT NULL,
  part         text NOT NULL,
  from_mission text NOT NULL,
  to_mission   text NOT NULL,
  open         boolean NOT NULL,
  PRIMARY KEY (handover_id, part)
);
CREATE UNIQUE INDEX part_open ON handover.part (case_id, part) WHERE open;

-- handover.idempotency: the first result of every mutating call, under the caller's mission.
CREATE TABLE handover.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- handover.outbox_cursor: where the intake consumer stands in the outbox.
CREATE TABLE handover.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Row-level security. The case projection and the idempotency records are one mission's, as
-- every service's (000007).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['handover."case"', 'handover.idempotency'] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

-- Exception: a hand-over, and its parts, are the sending and the receiving mission's alike.
-- Either sees them and may move them (which move is whose, the server's transition table
-- decides: the sender withdraws, the receiver accepts or declines, either completes); only the
-- sender proposes. A third mission sees nothing and may write nothing.
ALTER TABLE handover.handover ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE handover.part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON handover.handover FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (from_mission, to_mission));
CREATE POLICY sender_and_receiver_move ON handover.handover FOR UPDATE
  USING (nullif(current_setting('passage.mission', true), '') IN (from_mission, to_mission))
  WITH CHECK (nullif(current_setting('passage.mission', true), '') IN (from_mission, to_mission));
CREATE POLICY sender_proposes ON handover.handover FOR INSERT
  WITH CHECK (from_mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY sender_and_receiver_read ON handover.part FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (from_mission, to_mission));
CREATE POLICY sender_and_receiver_move ON handover.part FOR UPDATE
  USING (nullif(current_setting('passage.mission', true), '') IN (from_mission, to_mission))
  WITH CHECK (nullif(current_setting('passage.mission', true), '') IN (from_mission, to_mission));
CREATE POLICY sender_proposes ON handover.part FOR INSERT
  WITH CHECK (from_mission = nullif(current_setting('passage.mission', true), ''));

-- Exception: the profiles are HQ's: any declared mission reads them, only HQ publishes.
ALTER TABLE handover.profile ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY declared_reads ON handover.profile FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IS NOT NULL);
CREATE POLICY hq_publishes ON handover.profile FOR INSERT
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');

-- Exception: the consumer reads intake's events of every mission (see 000007), and writes each
-- case's projection under the event's own mission.
CREATE POLICY handover_reads_intake_events ON outbox.event FOR SELECT TO passage_handover
  USING (producer = 'intake' AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Grants: least privilege. Nothing is deleted; profiles are append-only.
GRANT USAGE ON SCHEMA handover, outbox, audit TO passage_handover;
GRANT SELECT, INSERT, UPDATE ON handover."case" TO passage_handover;
-- A move changes a hand-over's status and version, and closes its parts: nothing else of
-- either row ever changes, not even in a transaction of one of its two missions.
GRANT SELECT, INSERT, UPDATE (status, decline_reason, version, updated_at) ON handover.handover TO passage_handover;
GRANT SELECT, INSERT, UPDATE (open) ON handover.part TO passage_handover;
GRANT SELECT, INSERT ON handover.profile, handover.idempotency TO passage_handover;
GRANT SELECT, INSERT, UPDATE ON handover.outbox_cursor TO passage_handover;
GRANT SELECT, INSERT ON outbox.event TO passage_handover;
GRANT INSERT ON audit.record TO passage_handover;
