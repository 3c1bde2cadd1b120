-- Whether each person of an AVRR case may be assisted: their own ASSISTANCE consent when they
-- have a record of their own, else the principal applicant's (internal/consent,
-- MemberAssistanceAllowed). Until intake's next event for a case says otherwise, every member
-- follows the principal, as the projection already records it for the case.
ALTER TABLE returns.case_member ADD COLUMN assistance_allowed boolean;
UPDATE returns.case_member m SET assistance_allowed = c.assistance_allowed
FROM returns."case" c WHERE c.case_id = m.case_id;
ALTER TABLE returns.case_member ALTER COLUMN assistance_allowed SET NOT NULL;
