-- The receiving mission's part of a victim case (issue 17): a victim identified by one mission
-- (say IOM Thailand) and assisted home is supported by the mission of origin (IOM Myanmar),
-- which holds the case's CONTINUING_ASSISTANCE part (or the whole case, TRANSFER) from the
-- hand-over service's acceptance on.
--
-- trafficking.part keeps the grants, projected from HandoverAccepted events
-- (internal/handoverpart). A part holder reads and moves the victim case; the assistance
-- records carry the mission that recorded them and are seen by it alone, so that the
-- identifying mission sees the outcome of the part it handed over (status, closure reason)
-- and never the receiving mission's assistance.

CREATE TABLE trafficking.part (
  handover_id  uuid PRIMARY KEY,
  case_id      uuid NOT NULL,
  mission      text NOT NULL,
  from_mission text NOT NULL,
  programme    text NOT NULL,
  parts        text[] NOT NULL,
  accepted_at  timestamptz NOT NULL
);
CREATE INDEX part_case ON trafficking.part (case_id);
-- ListVictimCases: the cases a mission holds parts of.
CREATE INDEX part_mission ON trafficking.part (mission, case_id);

-- Exception: a grant is the sending and the receiving mission's alike (the sender must know it
-- no longer holds a part); it is written by the consumer under the receiving mission's
-- declaration, and never changed or removed.
ALTER TABLE trafficking.part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON trafficking.part FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (mission, from_mission));
CREATE POLICY receiver_records ON trafficking.part FOR INSERT
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
GRANT SELECT, INSERT ON trafficking.part TO passage_trafficking;

-- Exception: the consumer of intake's events reads the hand-over service's acceptances too.
CREATE POLICY trafficking_reads_handover_acceptances ON outbox.event FOR SELECT TO passage_trafficking
  USING (producer = 'handover' AND event_type = 'passage.handover.v1.HandoverAccepted'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Exception: a mission that holds a part of a victim case by an accepted hand-over reads the
-- case and moves it (which step is whose, the service's table of parts decides). The
-- mission_isolation policy of 000007 is unchanged.
CREATE POLICY part_holder_reads ON trafficking.victim_case FOR SELECT
  USING (EXISTS (SELECT FROM trafficking.part p WHERE p.case_id = victim_case.case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')));
CREATE POLICY part_holder_moves ON trafficking.victim_case FOR UPDATE
  USING (EXISTS (SELECT FROM trafficking.part p WHERE p.case_id = victim_case.case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')))
  WITH CHECK (EXISTS (SELECT FROM trafficking.part p WHERE p.case_id = victim_case.case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')));

-- An assistance record carries the mission that recorded it: the case's for every record
-- before this migration.
ALTER TABLE trafficking.assistance ADD COLUMN mission text;
UPDATE trafficking.assistance a SET mission = v.mission FROM trafficking.victim_case v WHERE v.case_id = a.case_id;
ALTER TABLE trafficking.assistance ALTER COLUMN mission SET NOT NULL;

-- An assistance record is its recorder's alone: whatever else lets a mission see the case's
-- records (000007's mission_isolation: the case's own mission), only the recording mission
-- sees or changes one. A part holder records and ends its own.
CREATE POLICY recorder_only ON trafficking.assistance AS RESTRICTIVE
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY part_holder_records ON trafficking.assistance
  USING (EXISTS (SELECT FROM trafficking.part p WHERE p.case_id = assistance.case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')))
  WITH CHECK (EXISTS (SELECT FROM trafficking.part p WHERE p.case_id = assistance.case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')));
