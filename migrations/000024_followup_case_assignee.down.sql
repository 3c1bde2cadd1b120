DROP POLICY followup_reads_case_assignments ON outbox.event;
DROP TABLE followup.case_assignee;
