DROP POLICY part_holder_reads ON analytics_state."case";
DROP TABLE analytics_state.part;
DROP POLICY receiver_of_open_handover_reads ON handover."case";
DROP INDEX handover.handover_case;
