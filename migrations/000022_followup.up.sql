-- Follow-ups on schedule (passage.followup.v1.FollowUpService).
--
-- followup reads the programmes' events (returns, trafficking, hasm) from the outbox, creates
-- the follow-ups they call for at the dates the mission's schedule gives, closes those a later
-- event settles, and writes its own events. A follow-up holds the intake case id, codes and
-- dates only, never identity. The schedule is data: a table of defaults per programme, seeded
-- here (docs/caseworkers.md#follow-ups argues each delay), and each mission's overrides.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_followup') THEN
    CREATE ROLE passage_followup LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA followup;

-- followup.schedule_default: every follow-up a programme creates, and its default delay from
-- its kind's anchor (the departure, the arrival, the assistance record's start): due after
-- months and days, counted as due remind_days_before that. Nobody's data and no mission's.
CREATE TABLE followup.schedule_default (
  programme          text NOT NULL CHECK (programme IN ('AVRR', 'VOT', 'HASM')),
  kind               text NOT NULL CHECK (kind IN ('ARRIVAL_CONFIRMATION', 'REINTEGRATION_PLAN',
                       'MONITORING_VISIT', 'ASSISTANCE_REVIEW')),
  occurrence         smallint NOT NULL CHECK (occurrence > 0),
  due_after_months   smallint NOT NULL CHECK (due_after_months >= 0),
  due_after_days     smallint NOT NULL CHECK (due_after_days >= 0),
  remind_days_before smallint NOT NULL CHECK (remind_days_before >= 0),
  PRIMARY KEY (programme, kind, occurrence)
);

INSERT INTO followup.schedule_default VALUES
  -- AVRR: arrival confirmed within a week of departure; a reintegration plan within four
  -- weeks of arrival; monitoring visits at 3, 6 and 12 months after arrival, the
  -- Reintegration Sustainability Survey taken at the 12-month one.
  ('AVRR', 'ARRIVAL_CONFIRMATION', 1, 0,  7,  2),
  ('AVRR', 'REINTEGRATION_PLAN',   1, 0, 28,  7),
  ('AVRR', 'MONITORING_VISIT',     1, 3,  0, 14),
  ('AVRR', 'MONITORING_VISIT',     2, 6,  0, 14),
  ('AVRR', 'MONITORING_VISIT',     3, 12, 0, 14),
  -- VoT: a review 30 days after each assistance record starts.
  ('VOT',  'ASSISTANCE_REVIEW',    1, 0, 30,  7),
  -- HASM: arrival (and the disbursement it completes) confirmed within 14 days of departure.
  ('HASM', 'ARRIVAL_CONFIRMATION', 1, 0, 14,  3);

-- followup.schedule: a mission's schedule version, from its first SetSchedule on (a mission
-- without a row has the defaults, version 1).
CREATE TABLE followup.schedule (
  mission    text PRIMARY KEY,
  version    bigint NOT NULL CHECK (version > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- followup.schedule_override: a mission's delay for one follow-up of the defaults.
CREATE TABLE followup.schedule_override (
  mission            text NOT NULL REFERENCES followup.schedule (mission),
  programme          text NOT NULL,
  kind               text NOT NULL,
  occurrence         smallint NOT NULL,
  due_after_months   smallint NOT NULL CHECK (due_after_months >= 0),
  due_after_days     smallint NOT NULL CHECK (due_after_days >= 0),
  remind_days_before smallint NOT NULL CHECK (remind_days_before >= 0),
  PRIMARY KEY (mission, programme, kind, occurrence),
  FOREIGN KEY (programme, kind, occurrence) REFERENCES followup.schedule_default
);

-- followup.follow_up: one due date on a case. source tells apart the follow-ups one case has
-- of the same kind and occurrence (a VoT review per assistance record: the record's id).
-- The *_notified_at columns say when the reminder job wrote FollowUpDue and FollowUpOverdue.
CREATE TABLE followup.follow_up (
  follow_up_id        uuid PRIMARY KEY,
  mission             text NOT NULL,
  case_id             uuid NOT NULL,
  programme           text NOT NULL CHECK (programme IN ('AVRR', 'VOT', 'HASM')),
  kind                text NOT NULL,
  occurrence          smallint NOT NULL CHECK (occurrence > 0),
  source              text NOT NULL DEFAULT '',
  due_on              date NOT NULL,
  remind_on           date NOT NULL CHECK (remind_on <= due_on),
  state               text NOT NULL CHECK (state IN ('OPEN', 'CLOSED')),
  assignee            text NOT NULL DEFAULT '',
  outcome             text CHECK (outcome IN ('DONE', 'NOT_NEEDED')),
  not_needed_reason   text,
  closed_on           date,
  closed_by           text NOT NULL DEFAULT '',
  version             bigint NOT NULL CHECK (version > 0),
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  due_notified_at     timestamptz,
  overdue_notified_at timestamptz,
  UNIQUE (case_id, programme, kind, occurrence, source),
  CHECK ((state = 'CLOSED') = (outcome IS NOT NULL)),
  CHECK ((state = 'CLOSED') = (closed_on IS NOT NULL)),
  CHECK ((outcome = 'NOT_NEEDED') = (not_needed_reason IS NOT NULL))
);
-- ListFollowUps: one assignee's (or the unassigned, assignee '') and the whole mission's, by
-- state, soonest due first, keyset-paginated.
CREATE INDEX follow_up_assignee_due ON followup.follow_up (mission, assignee, state, due_on, follow_up_id);
CREATE INDEX follow_up_mission_due ON followup.follow_up (mission, state, due_on, follow_up_id);
-- The reminder job: the open follow-ups whose reminder is not yet written.
CREATE INDEX follow_up_due_pending ON followup.follow_up (remind_on)
  WHERE state = 'OPEN' AND due_notified_at IS NULL;
CREATE INDEX follow_up_overdue_pending ON followup.follow_up (due_on)
  WHERE state = 'OPEN' AND overdue_notified_at IS NULL;

-- followup.idempotency: the first result of every mutating call (see intake.idempotency).
CREATE TABLE followup.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- followup.outbox_cursor: where the programmes' consumer stands in the outbox.
CREATE TABLE followup.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Mission isolation, as every service's (000007).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'followup.follow_up', 'followup.schedule', 'followup.schedule_override', 'followup.idempotency'
  ] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

-- Exception: the reminder job finds, across missions, the open follow-ups whose reminders are
-- due; it reads them only, and writes each mission's under that mission's declaration.
CREATE POLICY reminders_read ON followup.follow_up FOR SELECT TO passage_followup
  USING (nullif(current_setting('passage.maintenance', true), '') = 'followup_reminders');

-- Exception: the consumer reads the programmes' events of every mission (see 000007), and
-- writes each event's follow-ups under the event's own mission.
CREATE POLICY followup_reads_programme_events ON outbox.event FOR SELECT TO passage_followup
  USING (producer IN ('returns', 'trafficking', 'hasm')
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Grants: follow-ups and a mission's schedule version change; overrides are replaced (deleted
-- and inserted); idempotency records are only added. Events are read and written.
GRANT USAGE ON SCHEMA followup, outbox, audit TO passage_followup;
GRANT SELECT ON followup.schedule_default TO passage_followup;
GRANT SELECT, INSERT, UPDATE ON followup.follow_up, followup.schedule TO passage_followup;
GRANT SELECT, INSERT, DELETE ON followup.schedule_override TO passage_followup;
GRANT SELECT, INSERT ON followup.idempotency TO passage_followup;
GRANT SELECT, INSERT, UPDATE ON followup.outbox_cursor TO passage_followup;
GRANT SELECT, INSERT ON outbox.event TO passage_followup;
GRANT INSERT ON audit.record TO passage_followup;
