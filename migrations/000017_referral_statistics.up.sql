-- HQ analytics counts referrals between agencies (measure REFERRALS, issue 6): by status, by
-- the partner's category and by direction, besides the person dimensions every measure has.
--
-- The anonymised tables gain three coded columns, '' where they do not apply (every other
-- measure):
--   referral_status     passage.referral.v1.ReferralStatus without its prefix ('SENT', ...)
--   partner_type        passage.common.v1.PartnerCategory without its prefix ('NGO', ...)
--   referral_direction  'OUTBOUND' (a mission to a partner) or 'INBOUND' (a partner to a mission)
-- They name a category of organisation and a stage of a process, never an organisation, a
-- mission or a referral: nothing in schema analytics becomes linkable. The query role's
-- grants are unchanged (SELECT on the rollup, which covers the new columns; nothing on facts
-- or state).
--
-- A referral is counted once, under its current status: one fact per referral, whose
-- referral_status follows the referral, and the rollup's count moves from the old status to
-- the new one in the same transaction (old row -1, new row +1). analytics_state.referral
-- remembers, per referral, the version of the last change applied and the fact that counts
-- it, so that a change applied twice (an event redelivered, the cursor rewound) or late (an
-- older version) moves nothing.
--
-- Adding the columns with a constant default rewrites no table. The new checks on
-- analytics.fact are verified by one scan of it, and the rollup's primary key is rebuilt with
-- the new columns; both hold the table's lock while they run (longer on a bulk-loaded
-- database of millions of rows), during which the projector waits and Aggregate answers from
-- the service's in-memory copy.

ALTER TABLE analytics.fact
  ADD COLUMN referral_status text NOT NULL DEFAULT ''
    CHECK (referral_status IN ('', 'DRAFT', 'SENT', 'RECEIVED', 'ACCEPTED', 'DECLINED', 'COMPLETED',
                               'REVOKED', 'EXPIRED', 'WITHDRAWN')),
  ADD COLUMN partner_type text NOT NULL DEFAULT ''
    CHECK (partner_type IN ('', 'UN_AGENCY', 'NGO', 'GOVERNMENT', 'SERVICE_PROVIDER', 'UNKNOWN')),
  ADD COLUMN referral_direction text NOT NULL DEFAULT ''
    CHECK (referral_direction IN ('', 'OUTBOUND', 'INBOUND')),
  DROP CONSTRAINT fact_measure_check,
  ADD CONSTRAINT fact_measure_check CHECK (measure IN ('CASES_REGISTERED', 'PERSONS_RETURNED',
    'PERSONS_ASSISTED', 'VICTIMS_IDENTIFIED', 'HASM_REQUESTS_APPROVED', 'HASM_REQUESTS_REJECTED',
    'REFERRALS')),
  -- An inbound referral names no case: its programme, like every person dimension, is UNKNOWN.
  DROP CONSTRAINT fact_programme_check,
  ADD CONSTRAINT fact_programme_check CHECK (programme IN ('AVRR', 'VOT', 'HASM')
    OR (measure = 'REFERRALS' AND programme = 'UNKNOWN')),
  -- A referral has all three; nothing else has any.
  ADD CONSTRAINT fact_referral_columns CHECK ((measure = 'REFERRALS') =
    (referral_status <> '' AND partner_type <> '' AND referral_direction <> ''));

ALTER TABLE analytics.rollup
  ADD COLUMN referral_status text NOT NULL DEFAULT '',
  ADD COLUMN partner_type text NOT NULL DEFAULT '',
  ADD COLUMN referral_direction text NOT NULL DEFAULT '',
  DROP CONSTRAINT rollup_pkey,
  ADD CONSTRAINT rollup_pkey PRIMARY KEY (measure, year, programme, sex, age_band, nationality,
    host_country, return_country, vulnerabilities, assistance_type, exploitation_types,
    referral_status, partner_type, referral_direction);

-- analytics_state.referral: per referral the projector has seen, the version of the last
-- change it applied (ReferralChanged carries the referral's version, which rises by one with
-- every change) and the REFERRALS fact that counts it, NULL while it is not counted (its
-- principal's statistics consent was not in force at any change so far). Pseudonymous, like
-- the rest of analytics_state: a mission's rows, readable by the projector alone.
CREATE TABLE analytics_state.referral (
  referral_id uuid PRIMARY KEY,
  mission     text NOT NULL,
  version     bigint NOT NULL CHECK (version > 0),
  fact_id     bigint
);
ALTER TABLE analytics_state.referral ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY mission_isolation ON analytics_state.referral
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- The projector moves a referral's fact to its new status; it still deletes nothing.
GRANT UPDATE (referral_status) ON analytics.fact TO passage_analytics_projector;
GRANT SELECT, INSERT, UPDATE ON analytics_state.referral TO passage_analytics_projector;
