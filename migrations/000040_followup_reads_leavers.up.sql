-- Follow-up releases a leaver's follow-ups (issue 18): its consumer reads intake's staff
-- directory changes (StaffMemberChanged: ids and codes, never a name) of every mission, as it
-- reads intake's case assignments (000024), and nothing else of intake's.
CREATE POLICY followup_reads_staff_changes ON outbox.event FOR SELECT TO passage_followup
  USING (producer = 'intake' AND event_type = 'passage.staff.v1.StaffMemberChanged'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);
