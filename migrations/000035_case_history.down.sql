REVOKE SELECT (record_id, mission, actor, method, aggregate_id, reason, client_request_id, tx_id)
  ON audit.record FROM passage_intake;
DROP POLICY intake_reads_change_records ON audit.record;
