-- Hand-overs re-checked when they move, and one journey counted once (issue 17).
--
-- handover."case": the receiving mission of an open hand-over reads the projection row of the
-- case it is offered, so that accepting and completing check, at the moment of the move, that
-- the case is still open in intake and that the DATA_SHARING consent the hand-over rests on is
-- still in force (services/handover). The row holds no identity: ids and codes (the case's
-- mission, programme and intake status, the principal's subject id, which the hand-over shows
-- it already, and the ids of the principal's DATA_SHARING consent records in force). A
-- declined, withdrawn or completed hand-over shows nothing, nor does the case to a third
-- mission.
-- The policy looks a case's hand-overs up by case.
CREATE INDEX handover_case ON handover.handover (case_id);
CREATE POLICY receiver_of_open_handover_reads ON handover."case" FOR SELECT
  USING (EXISTS (
    SELECT FROM handover.handover h
    WHERE h.case_id = "case".case_id
      AND h.to_mission = nullif(current_setting('passage.mission', true), '')
      AND h.status IN ('PROPOSED', 'ACCEPTED')));

-- analytics_state.part: the accepted hand-overs (internal/handoverpart's columns), which the
-- projector learns from the hand-over service's HandoverAccepted events (it reads every
-- producer's events already, 000013). Written under the receiving mission's declaration,
-- visible to both missions, to no third one.
CREATE TABLE analytics_state.part (
  handover_id  uuid PRIMARY KEY,
  case_id      uuid NOT NULL,
  mission      text NOT NULL,
  from_mission text NOT NULL,
  programme    text NOT NULL,
  parts        text[] NOT NULL,
  accepted_at  timestamptz NOT NULL
);
CREATE INDEX part_case ON analytics_state.part (case_id);
ALTER TABLE analytics_state.part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON analytics_state.part FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (mission, from_mission));
CREATE POLICY receiver_records ON analytics_state.part FOR INSERT
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- Exception: a mission that holds parts of another mission's case reads the case's row, and
-- so learns whose state counts the case's people: an event the receiving mission records
-- (an assistance at origin) is then counted under the case's own mission, with the people
-- and the once-per-person records the sending mission's events counted, never a second time.
-- The case's people (analytics_state.member) and what counted them stay the case's mission's.
CREATE POLICY part_holder_reads ON analytics_state."case" FOR SELECT
  USING (EXISTS (
    SELECT FROM analytics_state.part p
    WHERE p.case_id = "case".case_id
      AND p.mission = nullif(current_setting('passage.mission', true), '')));

-- The projector records grants and never changes them.
GRANT SELECT, INSERT ON analytics_state.part TO passage_analytics_projector;
