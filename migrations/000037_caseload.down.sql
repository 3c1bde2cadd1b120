DROP INDEX intake.case_vulnerabilities;
DROP INDEX intake.case_mission_updated;
DROP INDEX intake.case_assignment_staff;
DROP INDEX intake.case_mission_created_by;
