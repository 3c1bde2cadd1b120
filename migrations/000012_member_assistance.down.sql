ALTER TABLE returns.case_member DROP COLUMN assistance_allowed;
