-- Undoes 000017: the referral counts go with their columns, the rollup's key is what 000013
-- made it, and the projector's referral state is dropped.
REVOKE UPDATE (referral_status) ON analytics.fact FROM passage_analytics_projector;
DROP TABLE analytics_state.referral;

DELETE FROM analytics.rollup WHERE measure = 'REFERRALS';
DELETE FROM analytics.fact WHERE measure = 'REFERRALS';

ALTER TABLE analytics.rollup
  DROP CONSTRAINT rollup_pkey,
  DROP COLUMN referral_status,
  DROP COLUMN partner_type,
  DROP COLUMN referral_direction,
  ADD CONSTRAINT rollup_pkey PRIMARY KEY (measure, year, programme, sex, age_band, nationality,
    host_country, return_country, vulnerabilities, assistance_type, exploitation_types);

ALTER TABLE analytics.fact
  DROP CONSTRAINT fact_referral_columns,
  DROP COLUMN referral_status,
  DROP COLUMN partner_type,
  DROP COLUMN referral_direction,
  DROP CONSTRAINT fact_measure_check,
  ADD CONSTRAINT fact_measure_check CHECK (measure IN ('CASES_REGISTERED', 'PERSONS_RETURNED',
    'PERSONS_ASSISTED', 'VICTIMS_IDENTIFIED', 'HASM_REQUESTS_APPROVED', 'HASM_REQUESTS_REJECTED')),
  DROP CONSTRAINT fact_programme_check,
  ADD CONSTRAINT fact_programme_check CHECK (programme IN ('AVRR', 'VOT', 'HASM'));
