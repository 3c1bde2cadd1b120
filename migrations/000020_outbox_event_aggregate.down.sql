DROP INDEX IF EXISTS outbox.event_aggregate;
