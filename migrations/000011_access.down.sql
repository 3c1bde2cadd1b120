DROP TABLE intake.break_glass_grant;
DROP TABLE intake.case_assignment;
