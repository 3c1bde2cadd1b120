-- Referrals between agencies (passage.referral.v1.ReferralService, issue 6).
--
-- referral keeps: the partner registry and the data profiles (HQ's, nobody's personal data),
-- a projection of intake's cases (pseudonymised, as intake's events describe them, with the
-- consent history that gates sharing), the referrals with their transitions, the partners'
-- event feed, and the first result of every mutating call.
--
-- Two kinds of transaction reach these tables:
--   - mission staff (and the outbox consumer, the expiry job, once they declared the row's
--     mission): set_config('passage.mission', m, true), the usual mission_isolation policies;
--   - partners: set_config('passage.partner', partner_id, true), never a mission. Named
--     policies let such a transaction see and change only the rows of that partner, so a
--     partner's call cannot reach another partner's referral, nor a mission's other rows, even
--     if the server got its filter wrong.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'passage_referral') THEN
    CREATE ROLE passage_referral LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA referral;

-- referral.partner: the HQ-wide registry of agencies. Not per mission, by design: UNHCR or an
-- NGO is one organisation working with many missions, its agreement is signed once with IOM,
-- and a consent names it by one code everywhere. It holds an organisation's data, nobody's:
-- names of organisations and services, countries, a connection, an agreement. The webhook
-- signing secret is stored encrypted by the vault's key-encryption key (never in clear).
CREATE TABLE referral.partner (
  partner_id          uuid PRIMARY KEY,
  code                text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,63}$'),
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category            text NOT NULL CHECK (category IN ('UN_AGENCY', 'NGO', 'GOVERNMENT', 'SERVICE_PROVIDER')),
  -- [{"name": "...", "categories": ["HEALTH", ...]}, ...]
  services            jsonb NOT NULL,
  -- every service category of services, for ListPartners' filter.
  service_categories  text[] NOT NULL,
  countries           text[] NOT NULL,
  connection_kind     text NOT NULL CHECK (connection_kind IN ('GRPC', 'HTTP_JSON', 'WEBHOOK')),
  webhook_url         text NOT NULL DEFAULT '',
  -- The signing secret sealed by the KEK (vault.Keyring.SealSecret), and the KEK key that did.
  signing_secret      bytea,
  signing_secret_kek  bigint,
  agreement_reference text NOT NULL,
  agreement_start     date NOT NULL,
  agreement_expiry    date NOT NULL,
  version             bigint NOT NULL CHECK (version > 0),
  created_by          text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (agreement_expiry >= agreement_start),
  CHECK (connection_kind <> 'WEBHOOK' OR (webhook_url <> '' AND signing_secret IS NOT NULL))
);
CREATE INDEX partner_name ON referral.partner (name, partner_id);

-- referral.data_profile: per referral type (service category), the fields a referral may
-- share. HQ's policy, nobody's data, hence not per mission. Versions are immutable: the role
-- may insert and read, never update or delete.
CREATE TABLE referral.data_profile (
  service_category text NOT NULL,
  version          integer NOT NULL CHECK (version > 0),
  fields           text[] NOT NULL CHECK (cardinality(fields) > 0),
  published_by     text NOT NULL,
  published_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service_category, version)
);

-- referral."case": intake's cases as its events describe them (every programme): the
-- pseudonymised Case message (subject ids, codes, dates and the consent history; never
-- identity), and the version it is at.
CREATE TABLE referral."case" (
  case_id        uuid PRIMARY KEY,
  mission        text NOT NULL,
  intake_version bigint NOT NULL,
  snapshot       bytea NOT NULL
);

-- referral.referral: one referral, outbound or inbound.
CREATE TABLE referral.referral (
  referral_id       uuid PRIMARY KEY,
  mission           text NOT NULL,
  direction         text NOT NULL CHECK (direction IN ('OUTBOUND', 'INBOUND')),
  case_id           uuid,
  subject_id        uuid,
  partner_id        uuid NOT NULL REFERENCES referral.partner (partner_id),
  partner_category  text NOT NULL,
  service_category  text NOT NULL,
  reason            text NOT NULL,
  status            text NOT NULL CHECK (status IN ('DRAFT', 'SENT', 'RECEIVED', 'ACCEPTED', 'DECLINED',
                      'COMPLETED', 'REVOKED', 'EXPIRED', 'WITHDRAWN')),
  version           bigint NOT NULL CHECK (version > 0),
  consent_id        uuid,
  override_reason   text,
  override_by       text,
  profile_version   integer,
  partner_reference text NOT NULL DEFAULT '',
  decline_reason    text,
  outcome           text,
  revoke_reason     text,
  respond_by        timestamptz,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  -- An outbound referral is about a case, and rests on a consent or a recorded override.
  CHECK (direction = 'INBOUND' OR (case_id IS NOT NULL AND subject_id IS NOT NULL
    AND (consent_id IS NOT NULL OR (override_reason IS NOT NULL AND override_by IS NOT NULL)))),
  CHECK (direction = 'OUTBOUND' OR (partner_reference <> '' AND status <> 'DRAFT')),
  CHECK ((status = 'DECLINED') = (decline_reason IS NOT NULL)),
  CHECK ((status = 'COMPLETED') = (outcome IS NOT NULL)),
  CHECK ((status = 'REVOKED') = (revoke_reason IS NOT NULL)),
  CHECK (status = 'DRAFT' OR direction = 'INBOUND' OR profile_version IS NOT NULL),
  FOREIGN KEY (service_category, profile_version) REFERENCES referral.data_profile (service_category, version)
);
-- A partner's reference names one inbound referral: CreateInboundReferral is idempotent on it.
CREATE UNIQUE INDEX referral_inbound_reference ON referral.referral (partner_id, partner_reference)
  WHERE direction = 'INBOUND';
CREATE INDEX referral_mission_created ON referral.referral (mission, created_at DESC, referral_id DESC);
CREATE INDEX referral_partner_created ON referral.referral (partner_id, created_at DESC, referral_id DESC);
CREATE INDEX referral_case ON referral.referral (case_id);
-- The expiry job's look-up.
CREATE INDEX referral_respond_by ON referral.referral (respond_by) WHERE status IN ('SENT', 'RECEIVED');

-- referral.transition: every status change, append-only.
CREATE TABLE referral.transition (
  transition_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  referral_id   uuid NOT NULL REFERENCES referral.referral (referral_id),
  mission       text NOT NULL,
  partner_id    uuid NOT NULL,
  from_status   text,
  to_status     text NOT NULL,
  version       bigint NOT NULL,
  -- the RPC's short name, or "expiry" / "consent_withdrawal".
  cause         text NOT NULL,
  -- pseudonymous staff id, the partner's id, or the job's name.
  actor         text NOT NULL,
  occurred_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transition_referral ON referral.transition (referral_id, transition_id);

-- referral.partner_event: each partner's ordered feed (ListReferralEvents). Read in commit
-- order, like the outbox: (tx_id, seq) below the oldest running transaction, so an event whose
-- transaction commits late is never skipped by a cursor that moved past a later one, and
-- events sharing a timestamp are ordered by seq.
CREATE TABLE referral.partner_event (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id    uuid NOT NULL UNIQUE,
  partner_id  uuid NOT NULL,
  mission     text NOT NULL,
  referral_id uuid NOT NULL REFERENCES referral.referral (referral_id),
  direction   text NOT NULL,
  status      text NOT NULL,
  version     bigint NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  tx_id       xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX partner_event_feed ON referral.partner_event (partner_id, tx_id, seq);

-- referral.idempotency: the first result of every mutating call. scope is the caller's
-- mission for staff, the partner's id for a partner (a uuid never looks like a mission code),
-- so a partner's request ids are its own.
CREATE TABLE referral.idempotency (
  mission     text NOT NULL,
  request_id  uuid NOT NULL,
  method      text NOT NULL,
  fingerprint bytea NOT NULL,
  response    bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mission, request_id)
);

-- referral.outbox_cursor: where the intake consumer stands in the outbox.
CREATE TABLE referral.outbox_cursor (
  name     text PRIMARY KEY,
  tx_id    xid8 NOT NULL,
  event_id bigint NOT NULL
);

-- Row-level security.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'referral."case"', 'referral.referral', 'referral.transition', 'referral.partner_event',
    'referral.idempotency'
  ] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY mission_isolation ON %s
      USING (mission = nullif(current_setting('passage.mission', true), ''))
      WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''))$p$, t);
  END LOOP;
END
$$;

-- A partner's transaction: its own referrals (read, answer, create inbound), their transitions
-- and feed events, and its own idempotency records. Nothing of another partner, nothing of a
-- mission that was not referred to it.
CREATE POLICY partner_reads ON referral.referral FOR SELECT TO passage_referral
  USING (partner_id = nullif(current_setting('passage.partner', true), '')::uuid);
CREATE POLICY partner_answers ON referral.referral FOR UPDATE TO passage_referral
  USING (partner_id = nullif(current_setting('passage.partner', true), '')::uuid)
  WITH CHECK (partner_id = nullif(current_setting('passage.partner', true), '')::uuid);
CREATE POLICY partner_creates_inbound ON referral.referral FOR INSERT TO passage_referral
  WITH CHECK (partner_id = nullif(current_setting('passage.partner', true), '')::uuid
              AND direction = 'INBOUND');
CREATE POLICY partner_writes_transitions ON referral.transition FOR INSERT TO passage_referral
  WITH CHECK (partner_id = nullif(current_setting('passage.partner', true), '')::uuid);
CREATE POLICY partner_feed ON referral.partner_event TO passage_referral
  USING (partner_id = nullif(current_setting('passage.partner', true), '')::uuid)
  WITH CHECK (partner_id = nullif(current_setting('passage.partner', true), '')::uuid);
CREATE POLICY partner_idempotency ON referral.idempotency TO passage_referral
  USING (mission = nullif(current_setting('passage.partner', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.partner', true), ''));

-- GetReferralData projects the referred case: a partner reads the projected case (codes and
-- subject ids) of a live outbound referral of theirs, and no other.
CREATE POLICY partner_reads_referred_case ON referral."case" FOR SELECT TO passage_referral
  USING (EXISTS (SELECT FROM referral.referral r
                 WHERE r.case_id = "case".case_id
                   AND r.direction = 'OUTBOUND'
                   AND r.status IN ('SENT', 'RECEIVED', 'ACCEPTED')
                   AND r.partner_id = nullif(current_setting('passage.partner', true), '')::uuid));

-- The registry and the profiles are HQ's: any declared mission or partner reads them (staff
-- pick a partner, a partner reads its own entry and what profiles share); only HQ writes them.
-- The webhook worker finds a partner's endpoint under the delivery's mission.
ALTER TABLE referral.partner ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE referral.data_profile ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY declared_reads ON referral.partner FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IS NOT NULL
         OR partner_id = nullif(current_setting('passage.partner', true), '')::uuid);
CREATE POLICY hq_registers ON referral.partner FOR INSERT
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY hq_updates ON referral.partner FOR UPDATE
  USING (nullif(current_setting('passage.mission', true), '') = 'HQ')
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');
CREATE POLICY declared_reads ON referral.data_profile FOR SELECT
  USING (nullif(current_setting('passage.mission', true), '') IS NOT NULL
         OR nullif(current_setting('passage.partner', true), '') IS NOT NULL);
CREATE POLICY hq_publishes ON referral.data_profile FOR INSERT
  WITH CHECK (nullif(current_setting('passage.mission', true), '') = 'HQ');

-- The expiry job finds unanswered referrals of every mission (ids, statuses and deadlines);
-- it then expires each under its own mission's declaration.
CREATE POLICY expiry_reads ON referral.referral FOR SELECT TO passage_referral
  USING (nullif(current_setting('passage.maintenance', true), '') = 'referral_expiry');

-- The outbox consumer reads intake's events of every mission (the consent withdrawals that
-- withdraw referrals, the cases it projects), as the programme services' consumers do.
CREATE POLICY referral_reads_intake_events ON outbox.event FOR SELECT TO passage_referral
  USING (producer = 'intake' AND nullif(current_setting('passage.outbox_consumer', true), '') IS NOT NULL);

-- A partner's call writes its outbox event and its audit record under the referral's mission
-- without declaring that mission (which would show it the mission's other rows): only the
-- referral service's events, only while a partner is declared.
CREATE POLICY partner_records_events ON outbox.event FOR INSERT TO passage_referral
  WITH CHECK (nullif(current_setting('passage.partner', true), '') IS NOT NULL AND producer = 'referral');
CREATE POLICY partner_records_audit ON audit.record FOR INSERT TO passage_referral
  WITH CHECK (nullif(current_setting('passage.partner', true), '') IS NOT NULL AND role = 'partner');
-- HQ's registry changes write HQ's events (mission 'HQ'), which the mission policy allows.

-- GetReferralData: a partner's transaction may read the sealed identity of a person only while
-- a referral of theirs to that partner is live (SENT, RECEIVED, ACCEPTED). Revoking, withdrawing
-- or expiring the referral ends the partner's access in the database itself, at once.
CREATE POLICY partner_reads_referred_identity ON vault.identity FOR SELECT TO passage_referral
  USING (EXISTS (SELECT FROM referral.referral r
                 WHERE r.subject_id = identity.subject_id
                   AND r.mission = identity.mission
                   AND r.direction = 'OUTBOUND'
                   AND r.status IN ('SENT', 'RECEIVED', 'ACCEPTED')
                   AND r.partner_id = nullif(current_setting('passage.partner', true), '')::uuid));

-- And nothing else of the vault: the mission policy on vault.identity would let a staff
-- transaction of this role read its mission's identities, which the referral service never
-- needs. This restrictive policy holds the role to the referred people alone.
CREATE POLICY referral_reads_only_referred ON vault.identity AS RESTRICTIVE FOR SELECT TO passage_referral
  USING (EXISTS (SELECT FROM referral.referral r
                 WHERE r.subject_id = identity.subject_id
                   AND r.mission = identity.mission
                   AND r.direction = 'OUTBOUND'
                   AND r.status IN ('SENT', 'RECEIVED', 'ACCEPTED')
                   AND r.partner_id = nullif(current_setting('passage.partner', true), '')::uuid));

-- Grants: least privilege. Nothing is deleted; the profiles and transitions are append-only.
GRANT USAGE ON SCHEMA referral, outbox, audit, vault TO passage_referral;
GRANT SELECT, INSERT, UPDATE ON referral.partner, referral."case", referral.referral TO passage_referral;
GRANT SELECT, INSERT ON referral.data_profile, referral.transition, referral.partner_event,
  referral.idempotency TO passage_referral;
GRANT SELECT, INSERT, UPDATE ON referral.outbox_cursor TO passage_referral;
GRANT SELECT, INSERT ON outbox.event TO passage_referral;
GRANT INSERT ON audit.record TO passage_referral;
-- Identity: read only, and only through partner_reads_referred_identity (the mission policy
-- also applies to staff transactions, which never read it here).
GRANT SELECT (subject_id, mission, wrapped_key, identity) ON vault.identity TO passage_referral;
