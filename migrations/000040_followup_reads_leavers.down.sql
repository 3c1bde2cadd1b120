DROP POLICY followup_reads_staff_changes ON outbox.event;
