DROP POLICY receiver_of_open_handover_reads ON handover."case";
