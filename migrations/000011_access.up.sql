-- Who may read a case's identity (issue 4, "Who may do what"). The case's creator
-- (intake."case".created_by) works on it; so does every staff member a supervisor assigns.
-- Anyone else, supervisors included, reads identity only under a break-glass grant.
-- Both tables hold one mission's rows: row-level security keyed on passage.mission, which
-- the service sets per transaction.

-- intake.case_assignment: the staff members (pseudonymous token subjects) a supervisor
-- assigned to a case. Assignment is a fact, not a history: UnassignCase deletes the row.
CREATE TABLE intake.case_assignment (
  mission     text NOT NULL,
  case_id     uuid NOT NULL REFERENCES intake."case" (case_id) ON DELETE CASCADE,
  staff_id    text NOT NULL CHECK (length(staff_id) BETWEEN 1 AND 128),
  assigned_by text NOT NULL,
  assigned_at timestamptz NOT NULL,
  PRIMARY KEY (case_id, staff_id)
);
ALTER TABLE intake.case_assignment ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake.case_assignment FORCE ROW LEVEL SECURITY;
CREATE POLICY case_assignment_mission ON intake.case_assignment
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

-- intake.break_glass_grant: a supervisor's time-limited access to one case's identity.
-- The written reason may name people: only its keyed digest (HMAC with the vault's
-- blind-index key) is kept, enough to check a reason shown at review, useless to a reader
-- of a dump. Grants are never deleted; only the review columns are ever updated, once.
CREATE TABLE intake.break_glass_grant (
  grant_id      uuid PRIMARY KEY,
  mission       text NOT NULL,
  case_id       uuid NOT NULL REFERENCES intake."case" (case_id),
  grantee       text NOT NULL,
  reason_digest bytea NOT NULL,
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  reviewed_by   text,
  finding       text CHECK (finding IN ('JUSTIFIED', 'NOT_JUSTIFIED')),
  reviewed_at   timestamptz,
  -- The server caps a grant at an hour; the database holds the same line.
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '1 hour'),
  CHECK ((reviewed_by IS NULL) = (finding IS NULL) AND (finding IS NULL) = (reviewed_at IS NULL)),
  CHECK (reviewed_by IS DISTINCT FROM grantee)
);
-- GetCase: a live grant of this caller on this case.
CREATE INDEX break_glass_grant_case ON intake.break_glass_grant (case_id, grantee, expires_at);
-- ListBreakGlassGrants: a mission's grants, newest first, keyset-paginated.
CREATE INDEX break_glass_grant_mission ON intake.break_glass_grant (mission, created_at DESC, grant_id DESC);
ALTER TABLE intake.break_glass_grant ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake.break_glass_grant FORCE ROW LEVEL SECURITY;
CREATE POLICY break_glass_grant_mission ON intake.break_glass_grant
  USING (mission = nullif(current_setting('passage.mission', true), ''))
  WITH CHECK (mission = nullif(current_setting('passage.mission', true), ''));

GRANT SELECT, INSERT, DELETE ON intake.case_assignment TO passage_intake;
-- No DELETE, and UPDATE of the review columns only: a grant cannot be shortened, moved to
-- another case or erased by the service.
GRANT SELECT, INSERT ON intake.break_glass_grant TO passage_intake;
GRANT UPDATE (reviewed_by, finding, reviewed_at) ON intake.break_glass_grant TO passage_intake;
