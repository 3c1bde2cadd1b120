DROP TABLE intake.case_note_version;
DROP TABLE intake.case_note;
