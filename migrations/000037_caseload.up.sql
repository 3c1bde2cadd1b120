-- The caseload (intake's ListCases filters, issue 18), in a mission of hundreds of thousands
-- of cases. case_mission_created (000001) already serves the default order.

-- "My cases", "a colleague's cases": the cases a staff member registered, and those they are
-- assigned to (the assignments' primary key leads with the case, for the access checks and
-- the unassigned list's probe). Both hold the case id, so the set of a staff member's cases is
-- read from the indexes alone.
CREATE INDEX case_mission_created_by ON intake."case" (mission, created_by, case_id);
CREATE INDEX case_assignment_staff ON intake.case_assignment (mission, staff_id, case_id);

-- Last activity (the case record's updated_at): the filter's range and the sort.
CREATE INDEX case_mission_updated ON intake."case" (mission, updated_at DESC, case_id DESC);

-- A vulnerability among the case's.
CREATE INDEX case_vulnerabilities ON intake."case" USING gin (vulnerabilities);
