-- Persons returned counted once per case and person (issue 17).
--
-- A case may now record two departures: in HASM, the host mission's request and, after a
-- hand-over of RECEPTION, the receiving mission's (000027), each of which records a
-- departure naming the same travellers. "One person, one journey, counted once": the
-- projector counts PERSONS_RETURNED at the first departure of a case that names a person
-- only, as analytics_state.assisted makes it count a person assisted once per type and year.
--
-- analytics_state.member.departed: whether a departure of the case has named the person. The
-- projector sets it at the first such departure (under the case's own mission, as it reads
-- the person: a receiving mission's departure is applied to the state of the mission that
-- registered the case, 000030), and counts the person only when it sets it. The row's
-- mission_isolation policy and the projector's grants (000013) cover the column.
ALTER TABLE analytics_state.member ADD COLUMN departed boolean NOT NULL DEFAULT false;

-- The departures the projector applied before this migration (those at or before its cursor)
-- named their travellers already. Their events are serialised protobuf: a DepartureRecorded
-- begins with its case_id (field 1, a 36-character UUID: bytes 0x0a 0x24 and the text), and
-- holds each traveller's subject id as its text. Departures the projector has not applied
-- yet are left to it.
UPDATE analytics_state.member m SET departed = true
FROM outbox.event e, analytics_state.outbox_cursor c
WHERE c.name = 'analytics'
  AND e.event_type = 'passage.common.v1.DepartureRecorded'
  AND (e.tx_id, e.event_id) <= (c.tx_id, c.event_id)
  AND substring(e.payload FROM 1 FOR 2) = '\x0a24'::bytea
  AND m.case_id::text = lower(convert_from(substring(e.payload FROM 3 FOR 36), 'UTF8'))
  AND position(convert_to(m.subject_id::text, 'UTF8') IN e.payload) > 0;
