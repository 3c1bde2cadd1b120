-- AVRR across missions: the parts of a return that an accepted hand-over gives another
-- mission (issue 17, docs/proposals/handover.md).
--
-- returns keeps one return per case: one journey, one status, one version sequence. A mission
-- that receives parts of another mission's case (RECEPTION, REINTEGRATION, MONITORING,
-- CLOSURE, or the whole case: TRANSFER) reads and moves that return through the policies
-- below; which step belongs to which part, the server decides (services/returns, parts.go).
-- Every fact now carries the mission that recorded it, and each fact table says who sees it:
-- the sending mission keeps the outcomes of what it handed over, never the receiving
-- mission's details (plans, assistance, visit scores).

-- returns.part: the grants, from the hand-over service's HandoverAccepted events
-- (internal/handoverpart). mission holds the parts, from_mission handed them over.
CREATE TABLE returns.part (
  handover_id  uuid PRIMARY KEY,
  case_id      uuid NOT NULL,
  mission      text NOT NULL,
  from_mission text NOT NULL,
  programme    text NOT NULL,
  parts        text[] NOT NULL,
  accepted_at  timestamptz NOT NULL
);
CREATE INDEX part_case ON returns.part (case_id);
-- ListReturns: the returns a mission holds parts of.
CREATE INDEX part_mission ON returns.part (mission, case_id);

-- Both missions of a grant see it (the sender must know it no longer holds a part), no third
-- one; the consumer writes it under the receiving mission's declaration. Nothing changes or
-- deletes a grant.
ALTER TABLE returns.part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON returns.part FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (mission, from_mission));
CREATE POLICY receiver_records ON returns.part FOR INSERT
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
GRANT SELECT, INSERT ON returns.part TO passage_returns;

-- The consumer reads the hand-over service's acceptances of every mission, and no other of its
-- events, as it reads intake's (000007).
CREATE POLICY passage_returns_reads_handover_acceptances ON outbox.event FOR SELECT TO passage_returns
  USING (producer = 'handover' AND event_type = 'passage.handover.v1.HandoverAccepted'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- A mission holding a part of a case (a grantee) reads the case, its people and its return,
-- and moves the return (its status and version). mission_isolation stays as it is: the case's
-- own mission. (Postgres tries a table's permissive policies in reverse order of their names:
-- grantee_* after mission_isolation, so a mission's own rows pass on the cheaper test.)
CREATE POLICY grantee_reads ON returns."case" FOR SELECT
  USING (EXISTS (SELECT FROM returns.part g WHERE g.case_id = "case".case_id
                 AND g.mission = nullif(current_setting('passage.mission', true), '')));
CREATE POLICY grantee_reads ON returns.case_member FOR SELECT
  USING (EXISTS (SELECT FROM returns.part g WHERE g.case_id = case_member.case_id
                 AND g.mission = nullif(current_setting('passage.mission', true), '')));
CREATE POLICY grantee_reads ON returns."return" FOR SELECT
  USING (EXISTS (SELECT FROM returns.part g WHERE g.case_id = "return".case_id
                 AND g.mission = nullif(current_setting('passage.mission', true), '')));
CREATE POLICY grantee_moves ON returns."return" FOR UPDATE
  USING (EXISTS (SELECT FROM returns.part g WHERE g.case_id = "return".case_id
                 AND g.mission = nullif(current_setting('passage.mission', true), '')))
  WITH CHECK (EXISTS (SELECT FROM returns.part g WHERE g.case_id = "return".case_id
                 AND g.mission = nullif(current_setting('passage.mission', true), '')));

-- Every fact carries the mission that recorded it (the return's own for the facts recorded so
-- far). The parent-based mission_isolation of 000007 gives way to a policy per use: a mission
-- records a fact under its own name on a return it sees (its own, or one it holds a part of),
-- and each table says who reads it.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['eligibility_decision', 'pre_departure_step', 'departure', 'arrival',
    'reintegration_plan', 'assistance', 'monitoring_visit', 'status_change'] LOOP
    EXECUTE format('ALTER TABLE returns.%1$I ADD COLUMN mission text', t);
    EXECUTE format('UPDATE returns.%1$I x SET mission = r.mission FROM returns."return" r WHERE r.case_id = x.case_id', t);
    EXECUTE format('ALTER TABLE returns.%1$I ALTER COLUMN mission SET NOT NULL', t);
    EXECUTE format('DROP POLICY mission_isolation ON returns.%1$I', t);
    EXECUTE format($p$CREATE POLICY recorder_adds ON returns.%1$I FOR INSERT
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), '')
                  AND EXISTS (SELECT FROM returns."return" r WHERE r.case_id = %1$I.case_id))$p$, t);
  END LOOP;
END
$$;

-- Who reads which fact. The sender of a grant is the case's own mission, so a fact's readers
-- are said with the grants alone (returns.part: both of its missions see a grant), and a
-- mission reads the facts it recorded itself at the cost of one comparison:
--   - eligibility and pre-departure: the case's own mission and the receiver of a whole case
--     (TRANSFER): the recorder and either side of a TRANSFER;
--   - departure and arrival (who travelled, when, where to; when they arrived), which reception,
--     reintegration and monitoring build on: the recorder and either side of any grant;
--   - closing and reopening, outcomes: the recorder and the sender of a grant;
--   - plans, assistance and monitoring visits (with their scores): the recorder alone. The
--     sending mission learns the outcome (the return's status, its closure), not these.
DO $$
DECLARE
  declared text := $e$nullif(current_setting('passage.mission', true), '')$e$;
  recorder text := format('mission = %s', declared);
  grant_of text := $e$EXISTS (SELECT FROM returns.part g WHERE g.case_id = %1$I.case_id$e$;
  rule     text[];
BEGIN
  FOREACH rule SLICE 1 IN ARRAY ARRAY[
    ['eligibility_decision', 'recorder_and_transfer_read',  $e$'TRANSFER' = ANY (g.parts))$e$],
    ['pre_departure_step',   'recorder_and_transfer_read',  $e$'TRANSFER' = ANY (g.parts))$e$],
    ['departure',            'recorder_and_grants_read',    'true)'],
    ['arrival',              'recorder_and_grants_read',    'true)'],
    ['status_change',        'recorder_and_sender_read',    format('g.from_mission = %s)', declared)],
    ['reintegration_plan',   'recorder_reads',              NULL],
    ['assistance',           'recorder_reads',              NULL],
    ['monitoring_visit',     'recorder_reads',              NULL]
  ] LOOP
    EXECUTE format('CREATE POLICY %2$I ON returns.%1$I FOR SELECT USING (%3$s)', rule[1], rule[2],
      recorder || coalesce(' OR ' || format(grant_of, rule[1]) || ' AND ' || rule[3], ''));
  END LOOP;
END
$$;
