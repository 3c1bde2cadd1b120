DROP POLICY part_holder_records ON trafficking.assistance;
DROP POLICY recorder_only ON trafficking.assistance;
ALTER TABLE trafficking.assistance DROP COLUMN mission;
DROP POLICY part_holder_moves ON trafficking.victim_case;
DROP POLICY part_holder_reads ON trafficking.victim_case;
DROP POLICY trafficking_reads_handover_acceptances ON outbox.event;
DROP TABLE trafficking.part;
