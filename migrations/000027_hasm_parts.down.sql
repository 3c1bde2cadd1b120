-- The receiving missions' requests go with their parts: one request per case again.
DROP POLICY requests_only_for_a_worked_case ON hasm.request;
DELETE FROM hasm.request r USING hasm."case" c WHERE c.case_id = r.case_id AND r.mission <> c.mission;
ALTER TABLE hasm.request DROP CONSTRAINT request_pkey,
  ADD CONSTRAINT request_pkey PRIMARY KEY (case_id);
DROP POLICY part_holder_reads ON hasm.case_member;
DROP POLICY part_holder_reads ON hasm."case";
DROP POLICY passage_hasm_reads_handover_acceptances ON outbox.event;
DROP TABLE hasm.part;
