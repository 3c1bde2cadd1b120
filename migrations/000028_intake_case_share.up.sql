-- The receiving mission of a hand-over reads the case through intake (issue 17).
--
-- Identity stays one row in the vault: no mission gets a copy, so the crypto-shredding of
-- ErasePerson reaches every mission's view at once. Intake learns of hand-overs from the
-- hand-over service's events (its first outbox consumer) and keeps:
--   intake.handover_profile  the programmes' hand-over data profiles (HQ's, nobody's data);
--   intake.case_share        each accepted hand-over: which mission reads which case, by which
--                            profile version, on which consent record or legal basis.
-- Named policies then let the receiving mission of a live share (ACCEPTED or COMPLETED) read
-- the case, its members, its consent records (to check the sharing's consent at read time)
-- and its people's identities and erasures. Declined and withdrawn hand-overs were never
-- accepted, so they never have a share: they grant nothing. No mission_isolation policy
-- changes: these are further permissive policies, for SELECT only, for the intake role only.

-- intake.handover_profile: the fields of each published profile version (HandoverField codes).
CREATE TABLE intake.handover_profile (
  programme text NOT NULL,
  version   integer NOT NULL CHECK (version > 0),
  fields    text[] NOT NULL,
  PRIMARY KEY (programme, version)
);

-- intake.case_share: one accepted hand-over of a case. mission is the receiving mission,
-- from_mission the sending one, which owns the case. Exactly one of consent_id and legal_basis
-- is set by the hand-over service; a share naming neither (an acceptance recorded before its
-- event carried them, and not backfilled below) allows nothing. No foreign keys: the consumer
-- must never stop on an event it cannot tie to a row here; a share whose case is not the
-- sending mission's, or whose profile intake does not hold, grants nothing (the policies and
-- the server's reads join them).
CREATE TABLE intake.case_share (
  handover_id     uuid PRIMARY KEY,
  case_id         uuid NOT NULL,
  mission         text NOT NULL,
  from_mission    text NOT NULL,
  programme       text NOT NULL,
  parts           text[] NOT NULL,
  profile_version integer NOT NULL,
  consent_id      uuid,
  legal_basis     text,
  status          text NOT NULL CHECK (status IN ('ACCEPTED', 'COMPLETED')),
  accepted_at     timestamptz NOT NULL,
  completed_at    timestamptz,
  CHECK (mission <> from_mission),
  CHECK (consent_id IS NULL OR legal_basis IS NULL),
  CHECK ((status = 'COMPLETED') = (completed_at IS NOT NULL))
);
-- GetCase, AssignCase and the policies below: the shares of a case.
CREATE INDEX case_share_case ON intake.case_share (case_id, mission);

-- intake.outbox_cursor: where the hand-over consumer stands in the outbox.
CREATE TABLE intake.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- What the hand-over service already holds, for databases that had hand-overs before this
-- migration (the consumer reads the outbox from its start, and passes over what is here).
INSERT INTO intake.handover_profile (programme, version, fields)
SELECT programme, version, fields FROM handover.profile;
INSERT INTO intake.case_share (handover_id, case_id, mission, from_mission, programme, parts, profile_version,
  consent_id, legal_basis, status, accepted_at, completed_at)
SELECT handover_id, case_id, to_mission, from_mission, programme, parts, profile_version, consent_id, legal_basis,
  status, updated_at, CASE WHEN status = 'COMPLETED' THEN updated_at END
FROM handover.handover WHERE status IN ('ACCEPTED', 'COMPLETED');

-- The profiles are HQ's: any declared mission reads them; the consumer writes them under HQ's
-- declaration (the mission their event was recorded for), and no one else does.
ALTER TABLE intake.handover_profile ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY declared_reads ON intake.handover_profile FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IS NOT NULL);
CREATE POLICY hq_publishes ON intake.handover_profile FOR INSERT
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');

-- A share is the sending and the receiving mission's to see (the sender knows whom it shares
-- with), no third mission's. The consumer writes it, and its completion, under the receiving
-- mission's declaration.
ALTER TABLE intake.case_share ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sender_and_receiver_read ON intake.case_share FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IN (mission, from_mission));
CREATE POLICY receiver_records ON intake.case_share FOR INSERT
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));
CREATE POLICY receiver_completes ON intake.case_share FOR UPDATE
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- Exception: the receiving mission of a live share reads the shared case's row, members,
-- consent records and withdrawals (SELECT only: it changes none of them; its own assignments
-- and break-glass grants of the case are rows of its own mission, under their mission
-- policies). The server shows it only the fields the share's profile allows.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['intake."case"', 'intake.case_member', 'intake.consent', 'intake.consent_withdrawal'] LOOP
    EXECUTE format($p$CREATE POLICY share_receiver_reads ON %1$s FOR SELECT TO passage_intake
      USING (EXISTS (SELECT FROM intake.case_share s
                     WHERE s.case_id = %2$s.case_id
                       AND s.from_mission = %2$s.mission
                       AND s.mission = nullif(current_setting('passage.mission', true), '')
                       AND s.status IN ('ACCEPTED', 'COMPLETED')))$p$, t, split_part(t, '.', 2));
  END LOOP;
END
$$;

-- Exception: the receiving mission of a live share whose profile allows an identity field
-- reads the sealed identity of the shared case's people, while the sharing rests on a legal
-- basis or on a consent record not withdrawn (the server checks the rest of "in force": that
-- no later record superseded it). A withdrawal thus ends the read in the database itself, on
-- both sides at once. Decrypting needs the keyring too, which only intake holds; the server
-- returns only the fields the profile allows.
CREATE POLICY share_receiver_reads ON vault.identity FOR SELECT TO passage_intake
  USING (EXISTS (SELECT FROM intake.case_member m JOIN intake.case_share s ON s.case_id = m.case_id
                 WHERE m.subject_id = identity.subject_id
                   AND m.mission = identity.mission
                   AND s.from_mission = m.mission
                   AND s.mission = nullif(current_setting('passage.mission', true), '')
                   AND s.status IN ('ACCEPTED', 'COMPLETED')
                   AND EXISTS (SELECT FROM intake.handover_profile p
                               WHERE p.programme = s.programme AND p.version = s.profile_version
                                 AND p.fields && ARRAY['NAME', 'DATE_OF_BIRTH', 'PHONE', 'ADDRESS', 'DOCUMENTS'])
                   AND (s.legal_basis IS NOT NULL
                        OR (s.consent_id IS NOT NULL
                            AND NOT EXISTS (SELECT FROM intake.consent_withdrawal w WHERE w.consent_id = s.consent_id)))));
-- And who of them was erased, so that the receiver's read shows the erasure as the owner's does.
CREATE POLICY share_receiver_reads ON vault.erasure FOR SELECT TO passage_intake
  USING (EXISTS (SELECT FROM intake.case_member m JOIN intake.case_share s ON s.case_id = m.case_id
                 WHERE m.subject_id = erasure.subject_id
                   AND m.mission = erasure.mission
                   AND s.from_mission = m.mission
                   AND s.mission = nullif(current_setting('passage.mission', true), '')
                   AND s.status IN ('ACCEPTED', 'COMPLETED')));

-- Exception: the consumer reads the hand-over service's events that begin or complete a share,
-- and the profiles, of every mission (one commit order, as every consumer's, 000007); it
-- writes each under the mission named above. Intake now reads the outbox as the other service
-- roles do: its mission's own events under mission_isolation, and these as a consumer.
CREATE POLICY intake_reads_handover_events ON outbox.event FOR SELECT TO passage_intake
  USING (producer = 'handover'
         AND event_type IN ('passage.handover.v1.HandoverProfilePublished', 'passage.handover.v1.HandoverAccepted',
                            'passage.handover.v1.HandoverCompleted')
         AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

GRANT SELECT ON outbox.event TO passage_intake;
GRANT SELECT, INSERT ON intake.handover_profile TO passage_intake;
GRANT SELECT, INSERT ON intake.case_share TO passage_intake;
-- Completion is the only change a share ever sees.
GRANT UPDATE (status, completed_at) ON intake.case_share TO passage_intake;
GRANT SELECT, INSERT, UPDATE ON intake.outbox_cursor TO passage_intake;
