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

-- A partner's transaction never sets nor changes which case a referral is about: the link is
-- the mission's (LinkReferralCase), and an outbound referral's case is the mission's choice.
-- The partner's UPDATE policy (partner_answers) lets it write its referrals' rows to answer
-- them; this trigger keeps the case columns out of that reach, even if the server erred.
CREATE FUNCTION referral.case_is_the_missions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nullif(current_setting('passage.partner', true), '') IS NOT NULL
     AND (TG_OP = 'INSERT' AND (NEW.case_id IS NOT NULL OR NEW.subject_id IS NOT NULL)
          OR TG_OP = 'UPDATE' AND (NEW.case_id IS DISTINCT FROM OLD.case_id
                                   OR NEW.subject_id IS DISTINCT FROM OLD.subject_id)) THEN
    RAISE EXCEPTION 'a partner does not set the case of a referral'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER case_is_the_missions BEFORE INSERT OR UPDATE OF case_id, subject_id ON referral.referral
  FOR EACH ROW EXECUTE FUNCTION referral.case_is_the_missions();
