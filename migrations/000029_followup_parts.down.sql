DROP POLICY grant_receiver_takes_open_follow_ups ON followup.follow_up;
DROP POLICY passage_followup_reads_handover_acceptances ON outbox.event;
DROP TABLE followup.part;
