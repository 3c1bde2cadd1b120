DROP TRIGGER case_is_the_missions ON referral.referral;
DROP FUNCTION referral.case_is_the_missions();
ALTER TABLE referral.referral
  DROP CONSTRAINT referral_inbound_link,
  DROP CONSTRAINT referral_case_of_its_mission;
DROP INDEX referral.case_mission;
