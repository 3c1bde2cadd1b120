-- Mission isolation underneath the server: row-level security on every table that holds a
-- mission's rows, so that a query the server gets wrong still cannot reach another mission.
--
-- Each transaction declares its mission with set_config('passage.mission', m, true) (see
-- internal/database). The setting is transaction-local: it ends with the transaction and never
-- reaches the next user of a pooled connection. A statement that declared nothing sees no row
-- and may write none: an unset setting reads NULL, and a setting that a finished transaction
-- set on the connection reads back as '', which nullif turns into NULL too (no mission is
-- empty, but a forgotten declaration must not match a row that were). The policies are plain
-- equality on a column against a stable expression, so the planner keeps using the (mission,
-- ...) indexes as it did with the server's own mission filter.
--
-- ENABLE applies the policies to the service roles, FORCE to the tables' owner as well. The
-- service roles own nothing and are NOBYPASSRLS (000001-000004; a test proves both). Whoever runs
-- the migrations must see every mission's rows to migrate them: a superuser, or an owner with
-- BYPASSRLS.
--
-- The exceptions that exist by design are policies of their own, named for what they allow:
-- HQ deciding HASM requests of every mission, HASM funds (HQ's, nobody's data), and the outbox
-- consumers that read every mission's events in one commit order.

-- intake's children get a mission column of their own. Registration writes the case, its members
-- and its consents in one statement, whose parts cannot see each other's rows: a policy that
-- looked the case up would refuse every new member. And the duplicate search joins case_member
-- on every registration, where an equality on the row itself costs nothing. A composite foreign
-- key keeps each child's mission its case's. (The children of the programme services' tables,
-- below, are written after their parent in a later statement and read beside it: their policies
-- look the parent up by primary key instead, which spares ten tables a column that could only
-- repeat the parent's.)
ALTER TABLE intake."case" ADD CONSTRAINT case_case_id_mission_key UNIQUE (case_id, mission);

ALTER TABLE intake.case_member ADD COLUMN mission text;
UPDATE intake.case_member m SET mission = c.mission FROM intake."case" c WHERE c.case_id = m.case_id;
ALTER TABLE intake.case_member ALTER COLUMN mission SET NOT NULL,
  DROP CONSTRAINT case_member_case_id_fkey,
  ADD CONSTRAINT case_member_case_fkey FOREIGN KEY (case_id, mission)
    REFERENCES intake."case" (case_id, mission) ON DELETE CASCADE;

ALTER TABLE intake.consent ADD COLUMN mission text;
UPDATE intake.consent x SET mission = c.mission FROM intake."case" c WHERE c.case_id = x.case_id;
ALTER TABLE intake.consent ALTER COLUMN mission SET NOT NULL,
  DROP CONSTRAINT consent_case_id_fkey,
  ADD CONSTRAINT consent_case_fkey FOREIGN KEY (case_id, mission)
    REFERENCES intake."case" (case_id, mission) ON DELETE CASCADE;

-- Tables with a mission column: the row is the caller's mission's, or it is invisible and
-- cannot be written.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'vault.identity', 'vault.blind_index',
    'intake."case"', 'intake.case_member', 'intake.consent', 'intake.idempotency',
    'outbox.event',
    'returns."case"', 'returns."return"', 'returns.idempotency',
    'trafficking.victim_case', 'trafficking.idempotency',
    'hasm."case"', 'hasm.request', 'hasm.idempotency'
  ] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

-- Children without a mission column: visible and writable when their parent row, found by its
-- primary key, is the caller's mission's.
DO $$
DECLARE
  pair text[];
BEGIN
  FOREACH pair SLICE 1 IN ARRAY ARRAY[
    ['returns',     'case_member',          'returns."case"'],
    ['returns',     'eligibility_decision', 'returns."return"'],
    ['returns',     'pre_departure_step',   'returns."return"'],
    ['returns',     'departure',            'returns."return"'],
    ['returns',     'arrival',              'returns."return"'],
    ['returns',     'reintegration_plan',   'returns."return"'],
    ['returns',     'assistance',           'returns."return"'],
    ['returns',     'monitoring_visit',     'returns."return"'],
    ['returns',     'status_change',        'returns."return"'],
    ['trafficking', 'assistance',           'trafficking.victim_case'],
    ['hasm',        'case_member',          'hasm."case"']
  ] LOOP
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', pair[1], pair[2]);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %1$I.%2$I
      USING (EXISTS (SELECT FROM %3$s p WHERE p.case_id = %2$I.case_id
                     AND p.mission = nullif(current_setting('passage.mission', true), '')))
      WITH CHECK (EXISTS (SELECT FROM %3$s p WHERE p.case_id = %2$I.case_id
                     AND p.mission = nullif(current_setting('passage.mission', true), '')))$p$,
      pair[1], pair[2], pair[3]);
  END LOOP;
END
$$;

-- Exception: HQ decides HASM requests of every mission. Its programme managers read them
-- (GetRequest, ListRequests) and decide them (DecideRequest), which checks the projected case is
-- still open and records the decision under the request's mission. A transaction declared for
-- HQ may therefore read and update requests, read projected cases (not their members) and insert
-- RequestDecided events, of any mission; it cannot create a request, which comes from a mission.
CREATE POLICY hq_reads_requests ON hasm.request FOR SELECT TO passage_hasm
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY hq_decides_requests ON hasm.request FOR UPDATE TO passage_hasm
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ')
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY hq_reads_cases ON hasm."case" FOR SELECT TO passage_hasm
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY hq_records_decisions ON outbox.event FOR INSERT TO passage_hasm
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ'
              AND producer = 'hasm' AND event_type = 'passage.hasm.v1.RequestDecided');

-- Exception: hasm.fund holds HQ's yearly budgets, no mission's rows and nobody's data. Missions
-- read a fund to request against it and give an approved amount back when they close the
-- request; HQ keeps the funds. Any transaction that declared a mission may read and update a
-- fund, only HQ may create one, and one that declared nothing sees none.
ALTER TABLE hasm.fund ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY declared_mission_reads ON hasm.fund FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IS NOT NULL);
CREATE POLICY declared_mission_updates ON hasm.fund FOR UPDATE
  USING (nullif(current_setting('passage.mission', true), '') IS NOT NULL)
  WITH CHECK (nullif(current_setting('passage.mission', true), '') IS NOT NULL);
CREATE POLICY hq_creates ON hasm.fund FOR INSERT
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');

-- Exception: the programme services' outbox consumers read intake's events of every mission.
-- One commit order across missions is what makes a consumer exactly once in effect (see
-- internal/outbox), so the read cannot be split by mission. A transaction that declared itself
-- an outbox consumer (set_config('passage.outbox_consumer', name, true)) may read intake's
-- events, and only those; it writes each event's projection under the event's own mission,
-- declared before the handler's statements, through the policies above. Analytics, which
-- counts every mission's cases and departures from the outbox, reads every producer's events
-- the same way; it reads nothing else.
CREATE POLICY consumers_read_intake_events ON outbox.event FOR SELECT
  TO passage_returns, passage_trafficking, passage_hasm
  USING (producer = 'intake' AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);
CREATE POLICY analytics_reads_events ON outbox.event FOR SELECT TO passage_analytics
  USING (nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- Not mission data, so not under row-level security: the consumers' outbox_cursor tables hold
-- one position in the outbox per consumer, for every mission at once.
