-- Hand-overs re-checked when they move (issue 17).
--
-- handover."case": the receiving mission of an open hand-over reads the projection row of the
-- case it is offered, so that accepting and completing check, at the moment of the move, that
-- the case is still open in intake and that the DATA_SHARING consent the hand-over rests on is
-- still in force (services/handover). The row holds no identity: the case's mission, programme,
-- intake status, principal subject id and the ids of the principal's sharing consents in force,
-- which the hand-over it reads already shows it. A declined, withdrawn or completed hand-over
-- shows nothing, nor does the case to a third mission.
CREATE POLICY receiver_of_open_handover_reads ON handover."case" FOR SELECT
  USING (EXISTS (
    SELECT FROM handover.handover h
    WHERE h.case_id = "case".case_id
      AND h.to_mission = nullif(current_setting('passage.mission', true), '')
      AND h.status IN ('PROPOSED', 'ACCEPTED')));
