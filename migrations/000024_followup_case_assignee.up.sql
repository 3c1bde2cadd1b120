-- Whose follow-ups a case's are: intake's case assignments, as the follow-up service sees them.
--
-- Intake publishes every AssignCase and UnassignCase as passage.intake.v1.CaseAssignmentChanged
-- (the case, its mission, the staff member and every assignee after the change: staff ids
-- only). followup keeps the assignees in followup.case_assignee, and a follow-up without an
-- assignee of its own (AssignFollowUp) is its case's assignees'.

-- followup.case_assignee: one row per staff member assigned to a case in intake.
CREATE TABLE followup.case_assignee (
  case_id       uuid NOT NULL,
  staff_subject text NOT NULL,
  mission       text NOT NULL,
  PRIMARY KEY (case_id, staff_subject)
);
-- "Due for me": the cases a staff member is assigned to in a mission.
CREATE INDEX case_assignee_staff ON followup.case_assignee (mission, staff_subject, case_id);

ALTER TABLE followup.case_assignee ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY mission_isolation ON followup.case_assignee
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- Exception: the consumer reads intake's case assignments of every mission (as the programme
-- services read intake's events, 000007), and writes each under the event's own mission. It
-- reads no other intake event: the cases themselves are not followup's business.
CREATE POLICY followup_reads_case_assignments ON outbox.event FOR SELECT TO passage_followup
  USING (producer = 'intake' AND event_type = 'passage.intake.v1.CaseAssignmentChanged'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- The assignees of a case are replaced on each event.
GRANT SELECT, INSERT, DELETE ON followup.case_assignee TO passage_followup;
