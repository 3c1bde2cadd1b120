DROP POLICY intake_writes_own_events ON outbox.event;
DROP POLICY returns_writes_own_events ON outbox.event;
DROP POLICY trafficking_writes_own_events ON outbox.event;
DROP POLICY hasm_writes_own_events ON outbox.event;
DROP POLICY referral_writes_own_events ON outbox.event;
DROP POLICY followup_writes_own_events ON outbox.event;
DROP POLICY handover_writes_own_events ON outbox.event;
