-- HASM parts: a stranded migrant assisted by one mission (Libya) is received by another (Niger).
--
-- hasm.part holds the grants of the hand-over service's accepted hand-overs of HASM cases
-- (internal/handoverpart lists the columns): which mission now works which part of a case.
-- HASM's one part is RECEPTION, the assistance on arrival at origin: the receiving mission's
-- own assistance requests for the case, their departure and arrival (the disbursement and its
-- confirmation) and their closure. TRANSFER moves the whole case, when the person moves on
-- before return. HQ's decisions and funds belong to no part.
--
-- A request belongs to the mission that made it: hasm.request is keyed by (case_id, mission),
-- the case's own mission's request (the return from the host country) and the receiving
-- mission's (reception at origin) each with their own status and version. Its mission_isolation
-- policy already lets the receiving mission create and move its own requests and read nothing
-- of the host's, and the host nothing of the receiver's: the amounts, funds and coded reasons
-- of a request are the details of the mission that made it. What changes is that a mission
-- holding a part may read the case it works (coded, never identity) and may make requests only
-- for a case it works.

CREATE TABLE hasm.part (
  handover_id  uuid PRIMARY KEY,
  case_id      uuid NOT NULL,
  mission      text NOT NULL,
  from_mission text NOT NULL,
  programme    text NOT NULL,
  parts        text[] NOT NULL,
  accepted_at  timestamptz NOT NULL
);
CREATE INDEX part_case_id ON hasm.part (case_id);

-- Both missions of a grant see it (the sender must know it no longer holds the part), no third
-- one; the consumer writes it under the receiving mission's declaration; nobody changes or
-- deletes it.
ALTER TABLE hasm.part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON hasm.part FOR SELECT TO passage_hasm
  USING (mission = nullif(current_setting('passage.mission', true), '')
         OR from_mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY receiver_records ON hasm.part FOR INSERT TO passage_hasm
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
GRANT SELECT, INSERT ON hasm.part TO passage_hasm;

-- The consumer of intake's events also reads the hand-over service's acceptances.
CREATE POLICY passage_hasm_reads_handover_acceptances ON outbox.event FOR SELECT TO passage_hasm
  USING (producer = 'handover' AND event_type = 'passage.handover.v1.HandoverAccepted'
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- A mission holding a part of a case reads the projected case and its coded people: the
-- subject ids, codes and consent flag its own requests need.
CREATE POLICY part_holder_reads ON hasm."case" FOR SELECT TO passage_hasm
  USING (EXISTS (SELECT FROM hasm.part p WHERE p.case_id = "case".case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')));
CREATE POLICY part_holder_reads ON hasm.case_member FOR SELECT TO passage_hasm
  USING (EXISTS (SELECT FROM hasm.part p WHERE p.case_id = case_member.case_id
                 AND p.mission = nullif(current_setting('passage.mission', true), '')));

-- One request per case and mission.
ALTER TABLE hasm.request DROP CONSTRAINT request_pkey,
  ADD CONSTRAINT request_pkey PRIMARY KEY (case_id, mission);

-- A request is made only for a case the mission works: its own, or one it holds a part of
-- (the case is then visible to it). Restrictive: it narrows mission_isolation's INSERT, and
-- changes nothing for a mission's requests for its own cases.
CREATE POLICY requests_only_for_a_worked_case ON hasm.request AS RESTRICTIVE FOR INSERT TO passage_hasm
  WITH CHECK (EXISTS (SELECT FROM hasm."case" c WHERE c.case_id = request.case_id));
