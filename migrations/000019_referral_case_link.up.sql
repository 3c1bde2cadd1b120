-- Inbound referrals linked to an intake case (ReferralService.LinkReferralCase, issue 6).
--
-- An inbound referral, once the mission accepted it, names the case of the person it refers
-- in the referral's own case_id and subject_id columns (as an outbound referral does). What
-- this migration adds is the database's half of the rules:
--   - the case is of the referral's mission: (case_id, mission) must be a case of referral's
--     projection under that very mission, for inbound and outbound referrals alike, so no
--     write can tie a referral to another mission's case even if the server erred;
--   - an inbound referral is linked only once accepted (ACCEPTED or COMPLETED), with both ids.
-- The partner's policies are unchanged: the case projection and the vault stay reachable
-- only through a live OUTBOUND referral (migration 000014), so linking an inbound referral
-- gives its partner nothing of the case.

CREATE UNIQUE INDEX case_mission ON referral."case" (case_id, mission);

ALTER TABLE referral.referral
  ADD CONSTRAINT referral_case_of_its_mission FOREIGN KEY (case_id, mission)
    REFERENCES referral."case" (case_id, mission),
  ADD CONSTRAINT referral_inbound_link CHECK (direction = 'OUTBOUND' OR (
    (case_id IS NULL) = (subject_id IS NULL)
    AND (case_id IS NULL OR status IN ('ACCEPTED', 'COMPLETED'))));
