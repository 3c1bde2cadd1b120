-- Follow-ups move with the part of a case that is handed over (issue 17).
--
-- followup reads the hand-over service's HandoverAccepted events into followup.part (the
-- grants: which parts of which case a receiving mission now works; internal/handoverpart), in
-- the same consumer and transaction as the programmes' events. On an acceptance, the case's
-- open follow-ups of the parts granted become the receiving mission's, unassigned; from then
-- on the programmes' events create and close the follow-ups of a part under the mission that
-- holds it.

-- followup.part: one row per accepted hand-over of an AVRR, VoT or HASM case.
CREATE TABLE followup.part (
  handover_id  uuid PRIMARY KEY,
  case_id      uuid NOT NULL,
  mission      text NOT NULL,
  from_mission text NOT NULL,
  programme    text NOT NULL,
  parts        text[] NOT NULL,
  accepted_at  timestamptz NOT NULL
);
CREATE INDEX part_case ON followup.part (case_id);

-- A grant is visible to the mission that received it and to the one that sent it (which must
-- know it no longer holds the part), to no third one; it is written under the receiving
-- mission's declaration, and never changed.
ALTER TABLE followup.part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON followup.part FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (mission, from_mission));
CREATE POLICY receiver_writes ON followup.part FOR INSERT
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
GRANT SELECT, INSERT ON followup.part TO passage_followup;

-- Exception: the consumer reads the hand-over service's acceptances of every mission, and no
-- other event of it.
CREATE POLICY passage_followup_reads_handover_acceptances ON outbox.event FOR SELECT TO passage_followup
  USING (producer = 'handover' AND event_type = 'passage.handover.v1.HandoverAccepted'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Exception: on an acceptance, the consumer, declared for the receiving mission, takes the
-- case's open follow-ups from the sending mission. The one policy serves the UPDATE and the
-- read the UPDATE makes of the rows it takes; its WITH CHECK is mission_isolation's (the row
-- taken is the receiving mission's), so it lets no row be written that mission_isolation
-- refuses, and the role may delete none. It applies only in the consumer's transaction, so no
-- request of either mission sees the other's follow-ups, and only to the open follow-ups of a
-- case a grant gives the declared mission, the grant's sender's, of the grant's programme.
CREATE POLICY grant_receiver_takes_open_follow_ups ON followup.follow_up TO passage_followup
  USING (state = 'OPEN'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL
         AND EXISTS (SELECT FROM followup.part p
                     WHERE p.case_id = follow_up.case_id AND p.programme = follow_up.programme
                       AND p.from_mission = follow_up.mission
                       AND p.mission = nullif(current_setting('passage.mission', true), '')))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
