-- A case's history (intake's GetCaseHistory, issue 18): every event recorded about a case for
-- the caller's mission, with who did each. Intake reads what is already kept; nothing here
-- loosens mission_isolation: every read below is of the declared mission's rows only.
--
-- The events. Intake already reads its own mission's outbox events of every producer, under
-- outbox.event's mission_isolation (the SELECT grant of 000028); every service files its
-- events about a case under the case's id (the follow-up service too, since this migration's
-- change), so nothing more is granted for them.

-- Who did each: the staff subject of the audit record that the call which recorded an event
-- wrote in the same transaction (internal/mutation commits the change, its event and its
-- audit record together). Until now intake could only insert records. It may now read, of its
-- declared mission's records (record_mission, unchanged), those of changes (a change's
-- record names its idempotency key; a read's does not), and only the columns the history
-- joins and shows: who read which case, and why, stays the auditor's to know.
CREATE POLICY intake_reads_change_records ON audit.record AS RESTRICTIVE FOR SELECT TO passage_intake
  USING (client_request_id IS NOT NULL);
GRANT SELECT (record_id, mission, actor, method, aggregate_id, reason, client_request_id, tx_id)
  ON audit.record TO passage_intake;
