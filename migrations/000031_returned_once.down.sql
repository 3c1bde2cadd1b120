-- Undoes 000031: the projector no longer remembers who departed.
ALTER TABLE analytics_state.member DROP COLUMN departed;
